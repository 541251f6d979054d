import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { accessChangedChannel, createDatabase, createInternalTokens, createOutboxRelay, createRedis, createServiceClient, createWorker, pruneIdempotencyKeys, pruneInbox, repeat, type Repeating } from '@hexa/kit';
import type { RunnerConfig } from './config.js';
import type { RunnerDatabase } from './database.js';
import { runnerProcessors } from './jobs.js';
import { createDatabaseRelay } from './modules/engine/database-relay.js';
import { createDockerEngine } from './modules/engine/docker-engine.js';
import { createRunExecutor, relayHostOf } from './modules/runs/run-executor.js';

/** Processed job ids and expired Idempotency-Keys are pruned this often. */
const inboxPruneIntervalMs = 3_600_000;

/**
 * Everything the runner's worker runs: the runner queue's consumer, the
 * scheduler that starts queued runs and applies cancellations, the watchers
 * of running containers, the database relay for containers, and the outbox
 * relay. `worker.ts` runs it as a process; tests run it in theirs.
 *
 * @example
 * const runtime = createRunnerWorker({ config, log });
 * await runtime.start();
 */
export function createRunnerWorker(options: { config: RunnerConfig; log: Logger }) {
  const { config, log } = options;
  const db = createDatabase<RunnerDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, max: 10 });
  const redis = createRedis(config.REDIS_URL);
  const workerConnection = createRedis(config.REDIS_URL, 'worker');
  const tokens = createInternalTokens({ service: 'runner', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const engine = createDockerEngine({ dockerHost: config.DOCKER_HOST });
  const databaseRelay = createDatabaseRelay({ listenHost: () => relayHostOf(config.RUN_DATABASE_RELAY_HOST, engine), listenPort: config.RUN_DATABASE_RELAY_PORT });
  const executor = createRunExecutor({
    db,
    engine,
    workspaces: createServiceClient({ baseUrl: config.WORKSPACES_URL, tokens, audience: 'workspaces' }),
    databases: createServiceClient({ baseUrl: config.DATABASES_URL, tokens, audience: 'databases' }),
    files: createServiceClient({ baseUrl: config.FILES_URL, tokens, audience: 'files' }),
    relay: databaseRelay,
    // The channel on which gateways drop a user's cached tokens (run tokens among them): a run's token dies with it, not a cache lifetime later.
    announceRunEnded: (userId) =>
      redis.publish(accessChangedChannel(config.HEXA_QUEUE_PREFIX), userId).then(
        () => undefined,
        (error: unknown) => log.warn({ err: error }, "could not announce a run's end; gateways drop its token within RUN_TOKEN_CACHE_TTL_MS"),
      ),
    workerId: randomUUID(),
    log,
    settings: {
      instance: config.HEXA_RUNNER_INSTANCE,
      filesDir: config.HEXA_FILES_DIR,
      serverUrl: config.HEXA_SERVER_URL,
      concurrencyPerWorkspace: config.RUN_CONCURRENCY_PER_WORKSPACE,
      pidsLimit: config.RUN_PIDS_LIMIT,
      logMaxBytes: config.RUN_LOG_MAX_BYTES,
      pullTimeoutMs: config.RUN_IMAGE_PULL_TIMEOUT_MS,
      stopGraceSeconds: config.RUN_STOP_GRACE_SECONDS,
      logFlushIntervalMs: config.RUN_LOG_FLUSH_INTERVAL_MS,
      tokenBytes: config.RUN_TOKEN_BYTES,
      databaseHostInContainer: config.RUN_DATABASE_HOST_IN_CONTAINER,
      network: config.RUN_NETWORK,
    },
  });
  const outbox = createOutboxRelay({ db, redis, prefix: config.HEXA_QUEUE_PREFIX, onError: (error) => log.warn({ err: error }, 'outbox pass failed; retrying') });
  const worker = createWorker('runner', runnerProcessors({ executor }), {
    connection: workerConnection,
    prefix: config.HEXA_QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.JOB_STALLED_CHECK_MS,
  });
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, name: job?.name, attemptsMade: job?.attemptsMade, err: error }, 'job failed'));

  let scheduler: Repeating | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;

  return {
    worker,
    executor,
    outbox,
    engine,

    /** Reconciles with the engine first (adopting the containers of live runs), then consumes, schedules and relays. */
    async start(): Promise<void> {
      await engine.ping();
      await engine.ensureRunNetwork(config.RUN_NETWORK);
      await executor.reconcile();
      await worker.waitUntilReady();
      outbox.relay.start(config.OUTBOX_RELAY_INTERVAL_MS);
      scheduler = repeat(() => executor.tick(), { intervalMs: config.RUN_SCHEDULE_INTERVAL_MS, onError: (error) => log.warn({ err: error }, 'runner tick failed; retrying') });
      pruneTimer = setInterval(() => void Promise.all([pruneInbox(db), pruneIdempotencyKeys(db)]).catch((error) => log.warn({ err: error }, 'pruning failed')), inboxPruneIntervalMs);
    },

    /** Stops consuming and watching; running containers are left to the next worker, which adopts them. */
    async close(): Promise<void> {
      clearInterval(pruneTimer);
      await scheduler?.stop();
      await worker.close();
      await executor.close();
      await outbox.close();
      await databaseRelay.close();
      await db.destroy();
      workerConnection.disconnect();
      redis.disconnect();
    },
  };
}

export type RunnerWorker = ReturnType<typeof createRunnerWorker>;
