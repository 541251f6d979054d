import { UnrecoverableError } from 'bullmq';
import { jobKeyOf, type Processors } from '@hexa/kit';
import type { InvitationsService } from './modules/invitations/invitations-service.js';
import type { InvitationMailService } from './modules/mail/invitation-mail-service.js';
import { describeMailError, isRejectedForGood } from './modules/mail/mail-transport.js';
import type { MembershipsService } from './modules/memberships/memberships-service.js';
import type { ArchivedWorkspacesService } from './modules/workspaces/archived-workspaces-service.js';

/** The membership queue's processors: thin adapters over the services. */
export function membershipProcessors(deps: {
  memberships: Pick<MembershipsService, 'grantCreatorAdmin'>;
  invitations: Pick<InvitationsService, 'revokeForArchivedWorkspace'>;
  archivedWorkspaces: ArchivedWorkspacesService;
  mail: InvitationMailService;
}): Processors<'membership'> {
  return {
    'workspace.created': async (payload, job) => {
      await deps.memberships.grantCreatorAdmin({ workspaceSlug: payload.slug, workspaceId: payload.workspaceId, userId: payload.createdBy }, jobKeyOf(job));
    },
    'workspace.archived': async (payload, job) => {
      await deps.archivedWorkspaces.follow(payload.slug);
      await deps.invitations.revokeForArchivedWorkspace(payload, jobKeyOf(job));
    },
    'workspace.restored': async (payload) => deps.archivedWorkspaces.follow(payload.slug),
    // A server that is down or slow is retried with backoff; one that refuses the message (5xx) would refuse it again.
    'invitation.mail': async (payload) => {
      try {
        await deps.mail.deliver(payload);
      } catch (error) {
        if (isRejectedForGood(error)) throw new UnrecoverableError(`The mail server refused the invitation e-mail: ${describeMailError(error)}`);
        throw error;
      }
    },
  };
}
