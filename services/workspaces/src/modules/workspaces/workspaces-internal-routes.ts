import type { Kysely } from 'kysely';
import { httpError, type OperationHandlers } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../database.js';

type InternalHandlers = Pick<OperationHandlers<'workspaces'>, 'describeWorkspace'>;

/**
 * Internal operations: only the services the contract names (`x-callers`)
 * reach them. Membership asks for a workspace's id, name and state when it
 * invites to it (archived ones included: it refuses those itself).
 */
export function workspacesInternalHandlers(deps: { db: Kysely<WorkspacesDatabase> }): InternalHandlers {
  return {
    describeWorkspace: async ({ params }) => {
      const row = await deps.db.selectFrom('workspaces').select(['id', 'slug', 'name', 'archived_at']).where('slug', '=', params.slug).executeTakeFirst();
      if (!row) throw httpError('workspace_not_found');
      return { status: 200, body: { id: row.id, slug: row.slug, name: row.name, archived: row.archived_at !== null } };
    },
  };
}
