import type { Kysely } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { auditActor, httpError, recordAudit, type UserCaller } from '@hexa/kit';
import type { DatabasesDatabase } from '../../database.js';
import { userUrl, type ClusterEndpoint } from '../cluster/cluster-fns.js';
import { getWorkspaceDatabaseBySlug } from '../provisioning/provisioning-repository.js';
import type { Secrets } from '../secrets/secrets.js';

/** The read-write login of a workspace's database, for Editors and Admins (the binding checked the role). */
export function createCredentialsService(deps: { db: Kysely<DatabasesDatabase>; secrets: Secrets; shown: ClusterEndpoint }) {
  const { db, secrets, shown } = deps;
  function credentialsOf(row: Awaited<ReturnType<typeof getWorkspaceDatabaseBySlug>>): Schemas['DatabaseCredentials'] {
    const password = secrets.open(row.owner_password, { workspaceId: row.workspace_id, login: 'owner' });
    return { host: shown.host, port: shown.port, dbName: row.database_name, username: row.owner_role, password, url: userUrl(shown, row.owner_role, password, row.database_name) };
  }

  return {
    /**
     * The same login for a run's environment (the runner asks when a container starts). Not audited here:
     * the run's launch is, and the credentials go nowhere but into that container.
     */
    async readForRun(slug: string): Promise<Schemas['DatabaseCredentials']> {
      const row = await getWorkspaceDatabaseBySlug(db, slug);
      if (row.status !== 'ready' || row.archived_at) throw httpError('database_not_ready', `The workspace's database is ${row.archived_at ? 'archived' : row.status}.`);
      return credentialsOf(row);
    },

    /**
     * The credentials, once the database is ready. Each read is recorded in
     * the workspace's audit trail in the same transaction (no entry, no
     * answer); the entry names the login, never the password.
     */
    async read(caller: UserCaller, slug: string): Promise<Schemas['DatabaseCredentials']> {
      const row = await getWorkspaceDatabaseBySlug(db, slug);
      if (row.status !== 'ready') throw httpError('database_not_ready', `The workspace's database is ${row.status}; its credentials exist once it is ready.`);
      const credentials = credentialsOf(row);
      await db.transaction().execute((trx) =>
        recordAudit(trx, { workspaceId: row.workspace_id, workspaceSlug: row.slug, actor: auditActor(caller), action: 'database.credentials-viewed', target: row.owner_role }),
      );
      return credentials;
    },
  };
}

export type CredentialsService = ReturnType<typeof createCredentialsService>;
