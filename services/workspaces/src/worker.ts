import pino from 'pino';
import { closeOnSignal, configOrExit, createDatabase, createOutboxRelay, createRedis, createWorker, loggerOptions, pruneIdempotencyKeys, pruneInbox } from '@hexa/kit';
import { loadWorkspacesConfig } from './config.js';
import type { WorkspacesDatabase } from './database.js';
import { workspacesProcessors } from './jobs.js';
import { createAuditService } from './modules/audit/audit-service.js';
import { createMemberRolesService } from './modules/members/member-roles-service.js';
import { createProvisioningService } from './modules/provisioning/provisioning-service.js';

/** Processed job ids and expired Idempotency-Keys are pruned this often. */
const inboxPruneIntervalMs = 3_600_000;

// The workspaces worker delivers the outbox (every committed job reaches its queue, even after Redis
// loses it) and consumes the workspaces queue (audit entries, database status reports).
const config = configOrExit('workspaces-worker', loadWorkspacesConfig);
const log = pino(loggerOptions('workspaces-worker', config.LOG_LEVEL));
const db = createDatabase<WorkspacesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
const redis = createRedis(config.REDIS_URL);
const workerConnection = createRedis(config.REDIS_URL, 'worker');
const outbox = createOutboxRelay({ db, redis, prefix: config.HEXA_QUEUE_PREFIX, onError: (error) => log.warn({ err: error }, 'outbox pass failed; retrying') });
const worker = createWorker('workspaces', workspacesProcessors({ audit: createAuditService({ db }), provisioning: createProvisioningService({ db }), memberRoles: createMemberRolesService({ db }) }), {
  connection: workerConnection,
  prefix: config.HEXA_QUEUE_PREFIX,
});
worker.on('failed', (job, error) => log.warn({ jobId: job?.id, name: job?.name, err: error }, 'job failed'));
const pruning = setInterval(() => void Promise.all([pruneInbox(db), pruneIdempotencyKeys(db)]).catch((error) => log.warn({ err: error }, 'pruning failed')), inboxPruneIntervalMs);
// Signal handling goes in before anything announces that the worker runs.
closeOnSignal(async () => {
  clearInterval(pruning);
  await worker.close();
  await outbox.close();
  await db.destroy();
  workerConnection.disconnect();
  redis.disconnect();
}, (message) => log.info(message));

// Announced once its connections are ready: a close that meets a half-open connection fails it.
await worker.waitUntilReady();
outbox.relay.start(config.OUTBOX_RELAY_INTERVAL_MS);
log.info('workspaces worker started: outbox relay and workspaces queue');
