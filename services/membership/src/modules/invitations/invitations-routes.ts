import type { Schemas } from '@hexa/contract';
import { accessChangedHeader, requireUser, type OperationHandlers } from '@hexa/kit';
import { refreshTokenPlacement, sessionDelivery } from '../auth/auth-routes.js';
import { pageOf, paging } from '../paging-fns.js';
import type { InvitationResponsesService } from './invitation-responses-service.js';
import type { InvitationsService } from './invitations-service.js';

type InvitationsHandlers = Pick<
  OperationHandlers<'membership'>,
  | 'searchUsers'
  | 'createInvitation'
  | 'listInvitations'
  | 'resendInvitation'
  | 'revokeInvitation'
  | 'previewInvitation'
  | 'listMyInvitations'
  | 'acceptInvitation'
  | 'declineInvitation'
  | 'register'
>;

/** Default of `GET /users`' `limit`. */
const defaultCandidates = 20;

export function invitationsHandlers(deps: {
  invitations: InvitationsService;
  responses: InvitationResponsesService;
  publicUrl: string;
}): InvitationsHandlers {
  const { invitations, responses } = deps;
  const deliver = sessionDelivery(deps.publicUrl);
  return {
    searchUsers: async ({ query }) => ({
      status: 200,
      body: {
        items: await invitations.searchCandidates({
          workspace: query.workspace,
          ...(query.query !== undefined ? { query: query.query } : {}),
          limit: query.limit ?? defaultCandidates,
        }),
      },
    }),
    createInvitation: async ({ caller, params, body, idempotency }) => {
      const answer = (invitation: Schemas['Invitation']) => ({ status: 201 as const, body: invitation });
      return answer(await invitations.invite(requireUser(caller), params.slug, body, idempotency && ((trx, invitation) => idempotency.answerIn(trx, answer(invitation)))));
    },
    listInvitations: async ({ params, query }) => {
      const paged = paging(query);
      const { items, total } = await invitations.list(params.slug, { ...paged, ...(query.status ? { status: query.status } : {}) });
      return { status: 200, body: pageOf(items, total, paged) };
    },
    resendInvitation: async ({ caller, params }) => ({ status: 200, body: await invitations.resend(requireUser(caller), params.slug, params.id) }),
    revokeInvitation: async ({ caller, params }) => {
      await invitations.revoke(requireUser(caller), params.slug, params.id);
      return { status: 204, body: undefined };
    },
    previewInvitation: async ({ query }) => ({ status: 200, body: await responses.preview(query.token), headers: { 'cache-control': 'no-store' } }),
    listMyInvitations: async ({ caller }) => ({ status: 200, body: { items: await responses.listMine(requireUser(caller)) } }),
    acceptInvitation: async ({ caller, params }) => {
      const user = requireUser(caller);
      return { status: 200, body: await responses.accept(user, params.id), headers: { [accessChangedHeader]: user.userId } };
    },
    declineInvitation: async ({ caller, params }) => ({ status: 200, body: await responses.decline(requireUser(caller), params.id) }),
    register: async ({ body, request, reply }) => {
      const issued = await responses.register(body);
      return { status: 201, ...deliver(reply, issued, refreshTokenPlacement(request.headers, body.refreshTokenIn ?? 'cookie')) };
    },
  };
}
