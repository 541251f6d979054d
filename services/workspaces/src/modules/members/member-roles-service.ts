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
        .values({ workspace_id: change.workspaceId, user_id: change.userId, role: change.role, version: change.version })
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
