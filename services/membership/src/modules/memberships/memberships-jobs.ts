import { jobKeyOf, type Processors } from '@hexa/kit';
import type { MembershipsService } from './memberships-service.js';

/** The membership queue's processors: thin adapters over the service. */
export function membershipProcessors(memberships: MembershipsService): Processors<'membership'> {
  return {
    'workspace.created': async (payload, job) => {
      await memberships.grantCreatorAdmin({ workspaceSlug: payload.slug, workspaceId: payload.workspaceId, userId: payload.createdBy }, jobKeyOf(job));
    },
  };
}
