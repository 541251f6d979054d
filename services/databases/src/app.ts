import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { bindOperations, createHttpApp, createInternalTokens, createQueues, Metrics, pingDatabase, pingRedis, registerOutboxMetrics, registerQueueMetrics } from '@hexa/kit';
import type { DatabasesConfig } from './config.js';
import type { DatabasesDatabase } from './database.js';
import { endpointOf, shownEndpoint } from './modules/cluster/cluster-fns.js';
import { contentHandlers } from './modules/content/content-routes.js';
import { createContentService } from './modules/content/content-service.js';
import { credentialsHandlers } from './modules/credentials/credentials-routes.js';
import { createCredentialsService } from './modules/credentials/credentials-service.js';
import { provisioningHandlers } from './modules/provisioning/provisioning-routes.js';
import { createProvisioningService } from './modules/provisioning/provisioning-service.js';
import { rotationsHandlers } from './modules/rotations/rotations-routes.js';
import { createRotationsService } from './modules/rotations/rotations-service.js';
import { createSecrets } from './modules/secrets/secrets.js';

export interface DatabasesAppDeps {
  config: DatabasesConfig;
  db: Kysely<DatabasesDatabase>;
  redis: Redis;
  /** Where the log lines go (default: stdout). */
  logDestination?: DestinationStream;
}

/**
 * Builds the databases service's HTTP app. Requests never touch the cluster's
 * admin login or Redis: changes are jobs written to the outbox, and content
 * is read as each database's read-only login.
 */
export async function buildDatabasesApp(deps: DatabasesAppDeps): Promise<FastifyInstance> {
  const { config, db, redis } = deps;
  const metrics = new Metrics('databases');
  const queues = createQueues({ connection: redis, prefix: config.HEXA_QUEUE_PREFIX });
  registerOutboxMetrics(metrics, db);
  registerQueueMetrics(metrics, Object.values(queues));
  metrics.gauge('hexa_workspace_databases', 'Workspace databases by status (archived ones apart).', ['status'], async (set) => {
    const rows = await db
      .selectFrom('workspace_databases')
      .select(['status', (eb) => eb.fn.countAll<string>().as('count')])
      .where('archived_at', 'is', null)
      .groupBy('status')
      .execute();
    for (const status of ['provisioning', 'ready', 'failed']) set({ status }, Number(rows.find((row) => row.status === status)?.count ?? 0));
  });

  const app = createHttpApp({
    service: 'databases',
    logLevel: config.LOG_LEVEL,
    metrics,
    readiness: { postgres: () => pingDatabase(db), redis: () => pingRedis(redis) },
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
  });
  const tokens = createInternalTokens({ service: 'databases', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const secrets = createSecrets(config.HEXA_DATABASE_ENCRYPTION_KEY);
  const shown = shownEndpoint(endpointOf(config.HEXA_WORKSPACE_DB_ADMIN_URL), config.HEXA_WORKSPACE_DB_HOST, config.HEXA_WORKSPACE_DB_PORT);
  const log = app.log;
  const content = createContentService({
    db,
    secrets,
    adminUrl: config.HEXA_WORKSPACE_DB_ADMIN_URL,
    statementTimeoutMs: config.CONTENT_STATEMENT_TIMEOUT_MS,
    exactCountLimit: config.CONTENT_EXACT_COUNT_LIMIT,
  });
  const provisioning = createProvisioningService({ db, secrets, prefix: config.HEXA_WORKSPACE_DB_PREFIX, log, shown, countTables: content.countTables });
  bindOperations(app, {
    service: 'databases',
    tokens,
    idempotency: db,
    idempotencyLeaseSeconds: config.HEXA_IDEMPOTENCY_LEASE_SECONDS,
    handlers: {
      ...provisioningHandlers(provisioning),
      ...credentialsHandlers(createCredentialsService({ db, secrets, shown })),
      ...contentHandlers(content),
      ...rotationsHandlers(createRotationsService({ db, secrets, log })),
    },
  });

  app.addHook('onClose', async () => {
    await Promise.all(Object.values(queues).map((queue) => queue.close()));
    await db.destroy();
    redis.disconnect();
  });
  return app;
}
