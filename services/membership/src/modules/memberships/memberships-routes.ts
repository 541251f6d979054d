import type { OperationHandlers } from '@hexa/kit';
import type { MembershipsService } from './memberships-service.js';

type InternalHandlers = Pick<OperationHandlers<'membership'>, 'getUserAccess' | 'listUserMemberships' | 'grantCreatorAdmin'>;

/** Internal operations: only the services the contract names (`x-callers`) reach them. */
export function membershipsHandlers(memberships: MembershipsService): InternalHandlers {
  return {
    getUserAccess: async ({ params, query }) => ({ status: 200, body: await memberships.resolveAccess(params.userId, query.workspace) }),
    listUserMemberships: async ({ params }) => ({ status: 200, body: { items: await memberships.listUserMemberships(params.userId) } }),
    grantCreatorAdmin: async ({ params, body }) => ({
      status: 200,
      body: { outcome: await memberships.grantCreatorAdmin({ workspaceSlug: params.slug, workspaceId: body.workspaceId, userId: params.userId }) },
    }),
  };
}
