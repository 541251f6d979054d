import { sql, type Kysely } from 'kysely';
import type { JobPayload } from '@hexa/contract';
import { processOnce, type JobKey } from '@hexa/kit';
import type { DatabasesDatabase } from '../../database.js';
import { generatePassword } from '../cluster/cluster-fns.js';
import type { WorkspaceCluster } from '../cluster/workspace-cluster.js';
import { withWorkspaceLock } from '../cluster/workspace-lock.js';
import { findWorkspaceDatabase } from '../provisioning/provisioning-repository.js';
import { namesOf, passwordsOf } from '../provisioning/provisioning-service.js';
import type { Secrets } from '../secrets/secrets.js';

/**
 * Archive and restore: the wanted state is recorded once (the inbox), then
 * the cluster is brought to it. Bringing it there converges, so a job that
 * dies after recording finishes on its retry.
 */
export function createLifecycleService(deps: {
  db: Kysely<DatabasesDatabase>;
  secrets: Secrets;
  cluster: WorkspaceCluster;
  log: { info(object: object, message: string): void };
}) {
  const { db, secrets, cluster, log } = deps;

  /** Logins enabled (with the stored passwords) or disabled (sessions ended), as the row says. */
  async function converge(workspaceId: string): Promise<void> {
    await withWorkspaceLock(db, workspaceId, async () => {
      const row = await findWorkspaceDatabase(db, workspaceId);
      // Provisioning applies the archive itself in its last step; a failed database has no login anyone knows.
      if (!row || row.status !== 'ready') return;
      await cluster.setLogins(namesOf(row), row.archived_at ? false : passwordsOf(secrets, row));
      log.info({ workspaceId, archived: row.archived_at !== null }, row.archived_at ? 'workspace database logins disabled' : 'workspace database logins enabled');
    });
  }

  return {
    /** Disables the database's logins and ends their sessions; the data stays. */
    async archive(payload: JobPayload<'databases', 'workspace.archived'>, job: JobKey): Promise<void> {
      await processOnce(db, job, async (trx) => {
        await trx.updateTable('workspace_databases').set({ archived_at: sql<Date>`coalesce(archived_at, now())` }).where('workspace_id', '=', payload.workspaceId).execute();
      });
      await converge(payload.workspaceId);
    },

    /** Enables the logins again, each with a fresh password: whoever knew the old one before the archive does not get back in. */
    async restore(payload: JobPayload<'databases', 'workspace.restored'>, job: JobKey): Promise<void> {
      await processOnce(db, job, async (trx) => {
        const row = await trx.selectFrom('workspace_databases').select(['archived_at']).where('workspace_id', '=', payload.workspaceId).forUpdate().executeTakeFirst();
        if (!row?.archived_at) return;
        await trx
          .updateTable('workspace_databases')
          .set({
            archived_at: null,
            owner_password: secrets.seal(generatePassword(), { workspaceId: payload.workspaceId, login: 'owner' }),
            reader_password: secrets.seal(generatePassword(), { workspaceId: payload.workspaceId, login: 'reader' }),
            updated_at: sql<Date>`now()`,
          })
          .where('workspace_id', '=', payload.workspaceId)
          .execute();
      });
      await converge(payload.workspaceId);
    },
  };
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
