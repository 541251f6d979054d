import { sql, type Kysely } from 'kysely';
import type { MembershipDatabase } from '../../database.js';
import type { WorkspaceDirectory } from './workspace-directory.js';

/**
 * Which workspaces are archived, as membership answers it to the gateway
 * (`Access.workspaceArchived`): the gateway then hides an archived workspace
 * from its members on every operation, whichever service serves it. Kept
 * from the workspaces service's `workspace.archived` and `workspace.restored`
 * events; each makes membership ask the workspaces service for the state it
 * holds now, rather than take the event's word, so an event delivered again
 * or after a later one (an archive's after the restore that followed it)
 * still leaves the state the workspaces service holds. Each member's cached
 * access is then dropped from the gateways.
 */
export function createArchivedWorkspacesService(deps: {
  db: Kysely<MembershipDatabase>;
  workspaces: WorkspaceDirectory;
  announceAccessChanged: (userId: string) => Promise<void>;
}) {
  return {
    async follow(slug: string): Promise<void> {
      const members = await deps.db.transaction().execute(async (trx) => {
        // One follower of a workspace at a time: two events handled at once cannot write what each read in the other order.
        // A lock of its own, not the memberships' one: the question to the workspaces service is asked while it is held.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`membership:archived:${slug}`}, 0))`.execute(trx);
        const { archived } = await deps.workspaces.describe(slug);
        if (archived) await trx.insertInto('archived_workspaces').values({ workspace_slug: slug }).onConflict((conflict) => conflict.column('workspace_slug').doNothing()).execute();
        else await trx.deleteFrom('archived_workspaces').where('workspace_slug', '=', slug).execute();
        return trx.selectFrom('workspace_memberships').select('user_id').where('workspace_slug', '=', slug).execute();
      });
      // After the commit, so a gateway that asks again at once reads the new state.
      await Promise.all(members.map((member) => deps.announceAccessChanged(member.user_id)));
    },
  };
}

export type ArchivedWorkspacesService = ReturnType<typeof createArchivedWorkspacesService>;
