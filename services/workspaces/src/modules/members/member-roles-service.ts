import { sql, type Kysely } from 'kysely';
import type { JobPayload } from '@hexa/contract';
import type { WorkspacesDatabase } from '../../database.js';

/**
 * The workspaces service's replica of who has which role where, kept from
 * membership's `membership.changed` events; it answers "which workspaces can
 * this user list" in one indexed query. Membership stays the authority for
 * access: the gateway asks it on every request.
 */
export function createMemberRolesService(deps: { db: Kysely<WorkspacesDatabase> }) {
  return {
    /** Applies a change unless a newer one is already applied (events may arrive late or twice). */
    async apply(change: JobPayload<'workspaces', 'membership.changed'>): Promise<void> {
      await deps.db
        .insertInto('member_roles')
        .values((eb) => ({
          workspace_id: change.workspaceId,
          user_id: change.userId,
          role: change.role,
          version: change.version,
          // The workspace's sort key and state, copied for the member's list (updateWorkspace keeps them).
          search_name: eb.selectFrom('workspaces').select('search_name').where('id', '=', change.workspaceId),
          workspace_slug: eb.selectFrom('workspaces').select('slug').where('id', '=', change.workspaceId),
          active: eb.selectFrom('workspaces').select(sql<boolean>`archived_at is null`.as('active')).where('id', '=', change.workspaceId),
        }))
        .onConflict((conflict) =>
          conflict
            .columns(['workspace_id', 'user_id'])
            .doUpdateSet({ role: (eb) => eb.ref('excluded.role'), version: (eb) => eb.ref('excluded.version') })
            .where(sql<boolean>`member_roles.version < excluded.version`),
        )
        .execute();
    },
  };
}

export type MemberRolesService = ReturnType<typeof createMemberRolesService>;
