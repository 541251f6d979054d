import pino from 'pino';
import { closeOnSignal, configOrExit, createDatabase, createRedis, loggerOptions } from '@hexa/kit';
import { loadWorkspacesConfig } from './config.js';
import type { WorkspacesDatabase } from './database.js';
import { createWorkspacesRelay } from './relay.js';

// The workspaces worker delivers the outbox: every committed job reaches its queue, even after Redis loses it.
const config = configOrExit('workspaces-worker', loadWorkspacesConfig);
const log = pino(loggerOptions('workspaces-worker', config.LOG_LEVEL));
const db = createDatabase<WorkspacesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
const redis = createRedis(config.REDIS_URL);
const outbox = createWorkspacesRelay({ db, redis, prefix: config.HEXA_QUEUE_PREFIX, onError: (error) => log.warn({ err: error }, 'outbox pass failed; retrying') });
// Signal handling goes in before anything announces that the worker runs.
closeOnSignal(async () => {
  await outbox.close();
  await db.destroy();
  redis.disconnect();
}, (message) => log.info(message));

outbox.relay.start(config.OUTBOX_RELAY_INTERVAL_MS);
log.info('workspaces outbox relay started');
