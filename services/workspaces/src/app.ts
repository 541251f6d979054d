import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { bindOperations, createHttpApp, createInternalTokens, createQueues, createServiceClient, Metrics, pingDatabase, pingRedis, registerOutboxMetrics, registerQueueMetrics } from '@hexa/kit';
import type { WorkspacesConfig } from './config.js';
import type { WorkspacesDatabase } from './database.js';
import { workspacesInternalHandlers } from './modules/workspaces/workspaces-internal-routes.js';
import { auditHandlers } from './modules/audit/audit-routes.js';
import { createAuditService } from './modules/audit/audit-service.js';
import { configurationHandlers } from './modules/configuration/configuration-routes.js';
import { createConfigurationService } from './modules/configuration/configuration-service.js';
import { createImagePolicy } from './modules/workspaces/image-reference-fns.js';
import { workspacesHandlers } from './modules/workspaces/workspaces-routes.js';
import { createWorkspacesService } from './modules/workspaces/workspaces-service.js';

export interface WorkspacesAppDeps {
  config: WorkspacesConfig;
  db: Kysely<WorkspacesDatabase>;
  redis: Redis;
}

/**
 * Builds the workspaces service's HTTP app. Requests never write to Redis:
 * jobs go through the outbox, so creating a workspace works while Redis is down.
 */
export async function buildWorkspacesApp(deps: WorkspacesAppDeps): Promise<FastifyInstance> {
  const { config, db, redis } = deps;
  const metrics = new Metrics('workspaces');
  const queues = createQueues({ connection: redis, prefix: config.HEXA_QUEUE_PREFIX });
  registerOutboxMetrics(metrics, db);
  registerQueueMetrics(metrics, Object.values(queues));

  const app = createHttpApp({
    service: 'workspaces',
    logLevel: config.LOG_LEVEL,
    metrics,
    readiness: { postgres: () => pingDatabase(db), redis: () => pingRedis(redis) },
  });
  const tokens = createInternalTokens({ service: 'workspaces', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const membership = createServiceClient({ baseUrl: config.MEMBERSHIP_URL, tokens, audience: 'membership' });
  const images = createImagePolicy({ defaultImage: config.HEXA_DEFAULT_IMAGE, allowList: config.HEXA_IMAGE_ALLOW_LIST });
  const workspaces = createWorkspacesService({ db, membership, images, log: app.log });
  const handlers = {
    ...workspacesHandlers(workspaces),
    ...configurationHandlers(createConfigurationService({ db })),
    ...auditHandlers({ audit: createAuditService({ db }), workspaces }),
    ...workspacesInternalHandlers({ db, images }),
  };
  bindOperations(app, { service: 'workspaces', tokens, idempotency: db, idempotencyLeaseSeconds: config.HEXA_IDEMPOTENCY_LEASE_SECONDS, handlers });

  app.addHook('onClose', async () => {
    await Promise.all(Object.values(queues).map((queue) => queue.close()));
    await db.destroy();
    redis.disconnect();
  });
  return app;
}
