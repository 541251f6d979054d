import type { Logger } from 'pino';
import { createDatabase, createOutboxRelay, createRedis, createWorker, pruneIdempotencyKeys, pruneInbox, repeat, type Repeating } from '@hexa/kit';
import type { DatabasesConfig } from './config.js';
import type { DatabasesDatabase } from './database.js';
import { databasesProcessors } from './jobs.js';
import { endpointOf, shownEndpoint } from './modules/cluster/cluster-fns.js';
import { createWorkspaceCluster } from './modules/cluster/workspace-cluster.js';
import { createLifecycleService } from './modules/lifecycle/lifecycle-service.js';
import { createProvisioningService } from './modules/provisioning/provisioning-service.js';
import { createRotationsService } from './modules/rotations/rotations-service.js';
import { createSecrets } from './modules/secrets/secrets.js';

/** Processed job ids and expired Idempotency-Keys are pruned this often. */
const inboxPruneIntervalMs = 3_600_000;
/** A job in one of these states will still run: the reconciler leaves its workspace alone. */
const liveStates = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Everything the databases worker runs: the consumer of the databases queue
 * (provisioning, archive, restore, password rotations), the outbox relay, and
 * the reconciler that queues again the work whose job was lost. `worker.ts`
 * runs it as a process; tests run it in theirs.
 *
 * @example
 * const runtime = createDatabasesWorker({ config, log });
 * await runtime.start();
 */
export function createDatabasesWorker(options: { config: DatabasesConfig; log: Logger }) {
  const { config, log } = options;
  // Each running job holds one connection for its workspace's lock and uses another meanwhile.
  const db = createDatabase<DatabasesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, max: 2 * config.WORKER_CONCURRENCY + 4 });
  const redis = createRedis(config.REDIS_URL);
  const workerConnection = createRedis(config.REDIS_URL, 'worker');
  const secrets = createSecrets(config.HEXA_DATABASE_ENCRYPTION_KEY);
  // Each running job holds at most one admin connection at a time, plus one for its database's grants.
  const cluster = createWorkspaceCluster({
    adminUrl: config.HEXA_WORKSPACE_DB_ADMIN_URL,
    maxConnections: config.WORKER_CONCURRENCY + 1,
    settings: {
      connectionLimit: config.WORKSPACE_DB_CONNECTION_LIMIT,
      statementTimeoutMs: config.WORKSPACE_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: config.WORKSPACE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
  });
  const shown = shownEndpoint(endpointOf(config.HEXA_WORKSPACE_DB_ADMIN_URL), config.HEXA_WORKSPACE_DB_HOST, config.HEXA_WORKSPACE_DB_PORT);
  const outbox = createOutboxRelay({ db, redis, prefix: config.HEXA_QUEUE_PREFIX, onError: (error) => log.warn({ err: error }, 'outbox pass failed; retrying') });
  // A status change reaches the workspace at once, not at the relay's next pass (creation to ready is what users wait on).
  const provisioning = createProvisioningService({ db, secrets, prefix: config.HEXA_WORKSPACE_DB_PREFIX, log, cluster, shown, deliverNow: (jobs) => outbox.relay.deliverNow(jobs) });
  const rotations = createRotationsService({ db, secrets, cluster, log });
  const lifecycle = createLifecycleService({ db, secrets, cluster, log });
  const worker = createWorker('databases', databasesProcessors({ provisioning, lifecycle, rotations }), {
    connection: workerConnection,
    prefix: config.HEXA_QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.JOB_STALLED_CHECK_MS,
  });
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, name: job?.name, attemptsMade: job?.attemptsMade, err: error }, 'job failed'));

  async function hasLiveJob(jobIds: string[]): Promise<boolean> {
    // The relay's connection fails fast while Redis is down (no offline queue): the pass fails and is tried again.
    const states = await Promise.all(jobIds.map((id) => outbox.queues.databases.getJobState(id)));
    return states.some((state: string) => liveStates.has(state));
  }

  let reconciler: Repeating | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;

  async function reconcileOnce(): Promise<{ provisioning: number; rotations: number }> {
    const options_ = { stalledAfterMs: config.RECONCILE_STALLED_AFTER_MS, hasLiveJob };
    return { provisioning: await provisioning.reconcile(options_), rotations: await rotations.reconcile(options_) };
  }

  return {
    worker,
    outbox,
    reconcileOnce,

    /** Starts consuming, relaying and reconciling once the queue connection is ready. */
    async start(): Promise<void> {
      await worker.waitUntilReady();
      outbox.relay.start(config.OUTBOX_RELAY_INTERVAL_MS);
      reconciler = repeat(reconcileOnce, { intervalMs: config.RECONCILE_INTERVAL_MS, onError: (error) => log.warn({ err: error }, 'reconciler pass failed; retrying') });
      pruneTimer = setInterval(() => void Promise.all([pruneInbox(db), pruneIdempotencyKeys(db)]).catch((error) => log.warn({ err: error }, 'pruning failed')), inboxPruneIntervalMs);
    },

    async close(): Promise<void> {
      clearInterval(pruneTimer);
      await reconciler?.stop();
      await worker.close();
      await outbox.close();
      await cluster.close();
      await db.destroy();
      workerConnection.disconnect();
      redis.disconnect();
    },
  };
}

export type DatabasesWorker = ReturnType<typeof createDatabasesWorker>;
