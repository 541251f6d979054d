import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { bindOperations, createHttpApp, createInternalTokens, createQueues, createServiceClient, Metrics, OutboxRelay, pingDatabase, pingRedis, registerOutboxMetrics, registerQueueMetrics } from '@hexa/kit';
import type { RunnerConfig } from './config.js';
import type { RunnerDatabase } from './database.js';
import { pipelinesHandlers } from './modules/pipelines/pipelines-routes.js';
import { createPipelinesService } from './modules/pipelines/pipelines-service.js';
import { runsHandlers } from './modules/runs/runs-routes.js';
import { createRunsService } from './modules/runs/runs-service.js';

export interface RunnerAppDeps {
  config: RunnerConfig;
  db: Kysely<RunnerDatabase>;
  redis: Redis;
  /** Where log lines go (tests read them); standard output otherwise. */
  logDestination?: DestinationStream;
}

/**
 * Builds the runner's HTTP app: pipelines, runs, logs and cancellations.
 * Requests never touch Docker: a launch is a queued row and a job in the
 * outbox; the worker starts, watches and stops containers.
 */
export async function buildRunnerApp(deps: RunnerAppDeps): Promise<FastifyInstance> {
  const { config, db, redis } = deps;
  const metrics = new Metrics('runner');
  const queues = createQueues({ connection: redis, prefix: config.HEXA_QUEUE_PREFIX });
  registerOutboxMetrics(metrics, db);
  registerQueueMetrics(metrics, Object.values(queues));
  metrics.gauge('hexa_runs', 'Runs queued or running.', ['status'], async (set) => {
    const rows = await db.selectFrom('runs').select(['status', (eb) => eb.fn.countAll<string>().as('count')]).where('status', 'in', ['queued', 'running']).groupBy('status').execute();
    for (const status of ['queued', 'running']) set({ status }, Number(rows.find((row) => row.status === status)?.count ?? 0));
  });

  const app = createHttpApp({
    service: 'runner',
    logLevel: config.LOG_LEVEL,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    metrics,
    readiness: { postgres: () => pingDatabase(db), redis: () => pingRedis(redis) },
  });
  const relay = new OutboxRelay(db, queues);
  const tokens = createInternalTokens({ service: 'runner', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const workspaces = createServiceClient({ baseUrl: config.WORKSPACES_URL, tokens, audience: 'workspaces' });
  const limits = {
    defaultTimeoutSeconds: config.RUN_DEFAULT_TIMEOUT_SECONDS,
    maxTimeoutSeconds: config.RUN_MAX_TIMEOUT_SECONDS,
    defaultMemoryMb: config.RUN_DEFAULT_MEMORY_MB,
    maxMemoryMb: config.RUN_MAX_MEMORY_MB,
    defaultCpus: config.RUN_DEFAULT_CPUS,
    maxCpus: config.RUN_MAX_CPUS,
  };
  bindOperations(app, {
    service: 'runner',
    tokens,
    idempotency: db,
    idempotencyLeaseSeconds: config.HEXA_IDEMPOTENCY_LEASE_SECONDS,
    handlers: {
      ...pipelinesHandlers(createPipelinesService({ db, workspaces, limits })),
      ...runsHandlers(
        createRunsService({
          db,
          workspaces,
          limits,
          // Only what this process committed, published once: the worker's relay passes deliver the rest.
          deliverNow: (jobs) => relay.deliverNow(jobs),
          onDeliveryError: (error) => app.log.warn({ err: error }, 'publishing a launched run at once failed; the outbox relay will'),
        }),
      ),
    },
  });

  app.addHook('onClose', async () => {
    await Promise.all(Object.values(queues).map((queue) => queue.close()));
    await db.destroy();
    redis.disconnect();
  });
  return app;
}
