import type { Kysely } from 'kysely';
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
      await deps.db.transaction().execute(async (trx) => {
        // Shared with other role changes, exclusive with updateWorkspace (which locks the row): a rename,
        // archive or restore either sees this role and moves it, or commits first and is copied here.
        const workspace = await trx
          .selectFrom('workspaces')
          .select(['search_name', 'slug', 'archived_at'])
          .where('id', '=', change.workspaceId)
          .forShare()
          .executeTakeFirst();
        await trx
          .insertInto('member_roles')
          .values({
            workspace_id: change.workspaceId,
            user_id: change.userId,
            role: change.role,
            version: change.version,
            // The workspace's sort key and state, copied for the member's list (updateWorkspace keeps them).
            search_name: workspace?.search_name ?? null,
            workspace_slug: workspace?.slug ?? null,
            active: workspace ? workspace.archived_at === null : null,
          })
          .onConflict((conflict) =>
            conflict
              .columns(['workspace_id', 'user_id'])
              .doUpdateSet({ role: (eb) => eb.ref('excluded.role'), version: (eb) => eb.ref('excluded.version') })
              .where((eb) => eb('member_roles.version', '<', eb.ref('excluded.version'))),
          )
          .execute();
      });
    },
  };
}

export type MemberRolesService = ReturnType<typeof createMemberRolesService>;
