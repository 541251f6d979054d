import { accessChangedHeader, requireUser, type OperationHandlers } from '@hexa/kit';
import { pageOf, paging } from '../paging-fns.js';
import type { MembersService } from './members-service.js';

type MembersHandlers = Pick<OperationHandlers<'membership'>, 'listMembers' | 'changeMemberRole' | 'removeMember' | 'leaveWorkspace'>;

export function membersHandlers(members: MembersService): MembersHandlers {
  return {
    listMembers: async ({ params, query }) => {
      const paged = paging(query);
      const { items, total } = await members.list(params.slug, paged);
      return { status: 200, body: pageOf(items, total, paged) };
    },
    // The answer names whose access changed: the gateway relaying it forgets that user's cached role at once.
    changeMemberRole: async ({ caller, params, body }) => ({
      status: 200,
      body: await members.changeRole(requireUser(caller), params.slug, params.userId, body.role),
      headers: { [accessChangedHeader]: params.userId },
    }),
    removeMember: async ({ caller, params }) => {
      await members.remove(requireUser(caller), params.slug, params.userId);
      return { status: 204, body: undefined, headers: { [accessChangedHeader]: params.userId } };
    },
    leaveWorkspace: async ({ caller, params }) => {
      const user = requireUser(caller);
      await members.leave(user, params.slug);
      return { status: 204, body: undefined, headers: { [accessChangedHeader]: user.userId } };
    },
  };
}
