import { sql, type Kysely, type Transaction } from 'kysely';
import type { JobPayload, Schemas } from '@hexa/contract';
import { auditActor, enqueueJob, httpError, processOnce, recordAudit, type JobKey, type UserCaller } from '@hexa/kit';
import type { DatabasesDatabase, DatabaseStatus } from '../../database.js';
import { databaseNamesFor, generatePassword, type ClusterEndpoint, type WorkspaceDatabaseNames } from '../cluster/cluster-fns.js';
import type { WorkspaceCluster } from '../cluster/workspace-cluster.js';
import { withWorkspaceLock } from '../cluster/workspace-lock.js';
import type { Secrets } from '../secrets/secrets.js';
import { describeFailure, provisioningSteps, type ProvisioningStep } from './provisioning-fns.js';
import { completedSteps, findWorkspaceDatabase, getWorkspaceDatabaseBySlug, recordStep, stalledProvisioning, type WorkspaceDatabaseRow } from './provisioning-repository.js';

export interface ProvisioningDeps {
  db: Kysely<DatabasesDatabase>;
  secrets: Secrets;
  /** The names' prefix (HEXA_WORKSPACE_DB_PREFIX). */
  prefix: string;
  log: { info(object: object, message: string): void; warn(object: object, message: string): void };
  /** The workspace cluster; only the worker, which provisions, has it. */
  cluster?: WorkspaceCluster;
  /** The cluster's address as users are shown it. */
  shown: ClusterEndpoint;
  /** Tables in a ready database, or null when it cannot be reached (the status page says so rather than failing). */
  countTables?: (row: WorkspaceDatabaseRow) => Promise<number | null>;
  /** Publishes committed jobs at once (the outbox relay's `deliverNow`); the relay's passes deliver what this cannot. */
  deliverNow?: (jobs: { queue: 'workspaces'; jobId: string }[]) => Promise<void>;
}

/** Where a job stands among its attempts: the last one records a failure for good. */
export interface Attempt {
  final: boolean;
}

export function namesOf(row: WorkspaceDatabaseRow): WorkspaceDatabaseNames {
  return { database: row.database_name, owner: row.owner_role, reader: row.reader_role };
}

export function passwordsOf(secrets: Secrets, row: WorkspaceDatabaseRow): { owner: string; reader: string } {
  return {
    owner: secrets.open(row.owner_password, { workspaceId: row.workspace_id, login: 'owner' }),
    reader: secrets.open(row.reader_password, { workspaceId: row.workspace_id, login: 'reader' }),
  };
}

/** Reports where the database stands to the workspaces service (its status), in the caller's transaction; answers the job's id. */
async function reportStatus(trx: Transaction<DatabasesDatabase>, row: Pick<WorkspaceDatabaseRow, 'workspace_id' | 'slug' | 'generation'>, status: DatabaseStatus, reason?: string): Promise<string> {
  const jobId = `database.status-changed-${row.workspace_id}-${row.generation}-${status}`;
  await enqueueJob(trx, 'workspaces', 'database.status-changed', { workspaceId: row.workspace_id, slug: row.slug, status, ...(reason ? { reason } : {}) }, jobId);
  return jobId;
}

/**
 * Provisioning of the workspace databases: accepting a new workspace,
 * running (and resuming) the steps on the workspace cluster, failures and
 * retries, and the reconciler for provisioning whose job was lost.
 */
export function createProvisioningService(deps: ProvisioningDeps) {
  const { db, secrets, log } = deps;

  /** The workspace learns its database's new status now rather than at the relay's next pass. */
  function reportNow(jobId: string | undefined): void {
    if (!jobId || !deps.deliverNow) return;
    void deps.deliverNow([{ queue: 'workspaces', jobId }]).catch((error: unknown) => log.warn({ err: error }, 'publishing a status change at once failed; the outbox relay will'));
  }

  async function step(name: ProvisioningStep, row: WorkspaceDatabaseRow): Promise<void> {
    const cluster = deps.cluster;
    if (!cluster) throw new Error('Provisioning runs in the worker, which has the workspace cluster');
    const names = namesOf(row);
    switch (name) {
      case 'roles':
        return cluster.ensureRoles(names, passwordsOf(secrets, row));
      case 'database':
        return cluster.ensureDatabase(names);
      case 'grants':
        return cluster.ensureGrants(names);
      case 'logins': {
        // An archive that arrived during provisioning wins; otherwise the owner's login is proven to work.
        const current = (await findWorkspaceDatabase(db, row.workspace_id)) ?? row;
        if (current.archived_at) return cluster.setLogins(names, false);
        const passwords = passwordsOf(secrets, current);
        await cluster.setLogins(names, passwords);
        return cluster.checkLogin(names.database, names.owner, passwords.owner);
      }
    }
  }

  /** Runs the steps not yet recorded, then marks the database ready; a no-op unless it is provisioning. */
  async function provision(workspaceId: string): Promise<DatabaseStatus | 'unknown'> {
    return withWorkspaceLock(db, workspaceId, async () => {
      const row = await findWorkspaceDatabase(db, workspaceId);
      if (!row || row.status !== 'provisioning') return row?.status ?? 'unknown';
      const done = await completedSteps(db, workspaceId);
      for (const name of provisioningSteps) {
        if (done.has(name)) continue;
        await step(name, row);
        await recordStep(db, workspaceId, name);
        log.info({ workspaceId, step: name }, 'provisioning step done');
      }
      const reported = await db.transaction().execute(async (trx) => {
        const ready = await trx
          .updateTable('workspace_databases')
          .set({ status: 'ready', status_reason: null, ready_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
          .where('workspace_id', '=', workspaceId)
          .where('status', '=', 'provisioning')
          .returning(['workspace_id', 'slug', 'generation'])
          .executeTakeFirst();
        return ready ? reportStatus(trx, ready, 'ready') : undefined;
      });
      reportNow(reported);
      log.info({ workspaceId }, 'workspace database ready');
      return 'ready';
    });
  }

  /** Records a failed attempt: the reason while retrying; `failed` (reported to workspaces) when it is the last. */
  async function recordFailure(workspaceId: string, reason: string, final: boolean): Promise<void> {
    const reported = await db.transaction().execute(async (trx) => {
      if (!final) {
        await trx.updateTable('workspace_databases').set({ status_reason: `${reason}; retrying` }).where('workspace_id', '=', workspaceId).where('status', '=', 'provisioning').execute();
        return undefined;
      }
      const failed = await trx
        .updateTable('workspace_databases')
        .set({ status: 'failed', status_reason: reason, updated_at: sql<Date>`now()` })
        .where('workspace_id', '=', workspaceId)
        .where('status', '=', 'provisioning')
        .returning(['workspace_id', 'slug', 'generation'])
        .executeTakeFirst();
      return failed ? reportStatus(trx, failed, 'failed', reason) : undefined;
    });
    reportNow(reported);
  }

  /** The status page of a database as `row` has it; `tableCount` is counted in its ready database. */
  function toWorkspaceDatabase(row: WorkspaceDatabaseRow, tableCount: number | null): Schemas['WorkspaceDatabase'] {
    return {
      status: row.status,
      ...(row.status_reason ? { reason: row.status_reason } : {}),
      host: deps.shown.host,
      port: deps.shown.port,
      dbName: row.database_name,
      tableCount,
    };
  }

  /** The status page of a workspace's database. */
  async function describe(slug: string): Promise<Schemas['WorkspaceDatabase']> {
    const row = await getWorkspaceDatabaseBySlug(db, slug);
    return toWorkspaceDatabase(row, row.status === 'ready' && deps.countTables ? await deps.countTables(row) : null);
  }

  return {
    /**
     * Takes a new workspace in, once (the inbox): its database's names and
     * its logins' passwords (encrypted) are chosen now, so that every retry
     * uses the same.
     */
    async accept(payload: JobPayload<'databases', 'workspace.created'>, job: JobKey): Promise<void> {
      await processOnce(db, job, async (trx) => {
        const names = databaseNamesFor(deps.prefix, payload.workspaceId);
        await trx
          .insertInto('workspace_databases')
          .values({
            workspace_id: payload.workspaceId,
            slug: payload.slug,
            status: 'provisioning',
            status_reason: null,
            database_name: names.database,
            owner_role: names.owner,
            reader_role: names.reader,
            owner_password: secrets.seal(generatePassword(), { workspaceId: payload.workspaceId, login: 'owner' }),
            reader_password: secrets.seal(generatePassword(), { workspaceId: payload.workspaceId, login: 'reader' }),
            ready_at: null,
            archived_at: null,
          })
          .onConflict((conflict) => conflict.column('workspace_id').doNothing())
          .execute();
      });
    },

    /**
     * Provisions (or resumes provisioning of) a workspace's database. A
     * failure is recorded with its reason and re-thrown: the job retries with
     * backoff while a retry may help, and the last attempt (or a failure no
     * retry can fix) marks the database `failed` and reports it.
     */
    async run(workspaceId: string, attempt: Attempt): Promise<void> {
      try {
        await provision(workspaceId);
      } catch (error) {
        const failure = describeFailure(error);
        log.warn({ workspaceId, err: error, retryable: failure.retryable }, 'provisioning attempt failed');
        await recordFailure(workspaceId, failure.reason, attempt.final || !failure.retryable).catch((recording) => log.warn({ workspaceId, err: recording }, 'could not record the failure'));
        // The job's own failure says only the reason: BullMQ keeps it in Redis for a week.
        throw failure.retryable ? new Error(failure.reason) : httpError('conflict', failure.reason);
      }
    },

    /**
     * An Admin's retry of a failed database: provisioning starts again,
     * keeping what was made. A database in any other status is refused (409),
     * never retried as a no-op, so every retry that answers commits its own
     * transaction. `inTransaction` sees the database as that transaction
     * leaves it (provisioning): the idempotent answer commits with it. The
     * answer is read again after the commit, when the worker may already have
     * moved the database on.
     */
    async retry(
      caller: UserCaller,
      slug: string,
      inTransaction?: (trx: Transaction<DatabasesDatabase>, database: Schemas['WorkspaceDatabase']) => Promise<void>,
    ): Promise<Schemas['WorkspaceDatabase']> {
      await db.transaction().execute(async (trx) => {
        await getWorkspaceDatabaseBySlug(trx, slug);
        const row = await trx.selectFrom('workspace_databases').selectAll().where('slug', '=', slug).forUpdate().executeTakeFirstOrThrow();
        if (row.status !== 'failed') throw httpError('conflict', `Only a failed database can be retried; this one is ${row.status}.`);
        const again = await trx
          .updateTable('workspace_databases')
          .set({ status: 'provisioning', status_reason: null, generation: sql<number>`generation + 1`, updated_at: sql<Date>`now()` })
          .where('workspace_id', '=', row.workspace_id)
          .returningAll()
          .executeTakeFirstOrThrow();
        // Every step runs again: each converges, so what the failed attempt made is kept and completed.
        await trx.deleteFrom('provisioning_steps').where('workspace_id', '=', row.workspace_id).execute();
        await enqueueJob(trx, 'databases', 'provisioning.requested', { workspaceId: row.workspace_id }, `provisioning.requested-${row.workspace_id}-${again.generation}`);
        await reportStatus(trx, again, 'provisioning');
        await recordAudit(trx, { workspaceId: row.workspace_id, workspaceSlug: row.slug, actor: auditActor(caller), action: 'database.provisioning-retried', before: row.status_reason });
        // A database provisioning has no tables to count (describe counts only a ready one).
        if (inTransaction) await inTransaction(trx, toWorkspaceDatabase(again, null));
      });
      return describe(slug);
    },

    describe,

    /**
     * Queues provisioning again for each workspace that has made no progress
     * for `stalledAfterMs` and has no job waiting, running or delayed (Redis
     * lost it; it failed without recording why). One replica wins each row.
     */
    async reconcile(options: { stalledAfterMs: number; hasLiveJob: (jobIds: string[]) => Promise<boolean>; limit?: number }): Promise<number> {
      const rows = await stalledProvisioning(db, new Date(Date.now() - options.stalledAfterMs), options.limit ?? 100);
      let requeued = 0;
      for (const row of rows) {
        const jobIds = [`workspace.created-${row.workspace_id}`, `provisioning.requested-${row.workspace_id}-${row.generation}`];
        if (await options.hasLiveJob(jobIds)) continue;
        const again = await db.transaction().execute(async (trx) => {
          const bumped = await trx
            .updateTable('workspace_databases')
            .set({ generation: sql<number>`generation + 1`, updated_at: sql<Date>`now()` })
            .where('workspace_id', '=', row.workspace_id)
            .where('status', '=', 'provisioning')
            .where('generation', '=', row.generation)
            .returning('generation')
            .executeTakeFirst();
          if (bumped) await enqueueJob(trx, 'databases', 'provisioning.requested', { workspaceId: row.workspace_id }, `provisioning.requested-${row.workspace_id}-${bumped.generation}`);
          return bumped;
        });
        if (again) {
          requeued += 1;
          log.warn({ workspaceId: row.workspace_id, generation: again.generation }, 'provisioning had no job: queued again');
        }
      }
      return requeued;
    },
  };
}

export type ProvisioningService = ReturnType<typeof createProvisioningService>;
