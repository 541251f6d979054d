import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { bindOperations, createHttpApp, createInternalTokens, createServiceClient, Metrics, pingDatabase, pingRedis, registerOutboxMetrics, workspaceFilesOwner } from '@hexa/kit';
import type { FilesConfig } from './config.js';
import type { FilesDatabase } from './database.js';
import { connectionsHandlers } from './modules/connections/connections-routes.js';
import { createConnectionsService } from './modules/connections/connections-service.js';
import { filesHandlers } from './modules/files/files-routes.js';
import { createFilesService } from './modules/files/files-service.js';
import { createLocalStorage, type FileStorage } from './modules/files/files-storage.js';
import { createWorkspaceDirectory } from './modules/workspaces/workspace-directory.js';

export interface FilesAppDeps {
  config: FilesConfig;
  db: Kysely<FilesDatabase>;
  redis: Redis;
  /** Where files live; the local folder of HEXA_FILES_DIR when left out. */
  storage?: FileStorage;
  /** Where log lines go (standard output when left out). */
  logDestination?: DestinationStream;
}

/**
 * Builds the files service's HTTP app: the workspace's files (streamed both
 * ways, confined to the workspace's folder) and its connections (secret
 * values encrypted at rest). Audit entries leave through the outbox, which
 * the worker relays.
 */
export async function buildFilesApp(deps: FilesAppDeps): Promise<FastifyInstance> {
  const { config, db, redis } = deps;
  const metrics = new Metrics('files');
  registerOutboxMetrics(metrics, db);
  const app = createHttpApp({
    service: 'files',
    logLevel: config.LOG_LEVEL,
    metrics,
    readiness: { postgres: () => pingDatabase(db), redis: () => pingRedis(redis) },
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    // An upload streams for as long as it flows; a silent connection is cut (the gateway does the same).
    requestTimeoutMs: 0,
    idleTimeoutMs: 600_000,
  });
  const tokens = createInternalTokens({ service: 'files', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const directory = createWorkspaceDirectory(createServiceClient({ baseUrl: config.WORKSPACES_URL, tokens, audience: 'workspaces' }));
  const storage = deps.storage ?? createLocalStorage(config.HEXA_FILES_DIR, { owner: workspaceFilesOwner() });
  const files = createFilesService({ db, storage, directory, limits: { maxFileBytes: config.FILES_MAX_FILE_BYTES, quotaBytes: config.FILES_WORKSPACE_QUOTA_BYTES } });
  const connections = createConnectionsService({ db, directory, keyring: config.HEXA_CONNECTIONS_ENCRYPTION_KEY, testTimeoutMs: config.CONNECTION_TEST_TIMEOUT_MS });
  bindOperations(app, {
    service: 'files',
    tokens,
    idempotency: db,
    idempotencyLeaseSeconds: config.HEXA_IDEMPOTENCY_LEASE_SECONDS,
    handlers: { ...filesHandlers(files), ...connectionsHandlers(connections) },
  });

  app.addHook('onClose', async () => {
    await db.destroy();
    redis.disconnect();
  });
  return app;
}
