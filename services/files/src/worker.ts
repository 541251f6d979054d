import pino from 'pino';
import { closeOnSignal, configOrExit, createDatabase, createOutboxRelay, createRedis, loggerOptions, pruneIdempotencyKeys } from '@hexa/kit';
import { loadFilesConfig } from './config.js';
import type { FilesDatabase } from './database.js';

/** Expired Idempotency-Keys are pruned this often. */
const pruneIntervalMs = 3_600_000;

// The files worker delivers the outbox (audit entries of uploads, deletes, moves and connection changes)
// and forgets expired Idempotency-Keys.
// It consumes no queue: an archive needs nothing of it (the HTTP side asks whether a workspace is archived).
const config = configOrExit('files-worker', loadFilesConfig);
const log = pino(loggerOptions('files-worker', config.LOG_LEVEL));
const db = createDatabase<FilesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, max: 4 });
const redis = createRedis(config.REDIS_URL);
const outbox = createOutboxRelay({ db, redis, prefix: config.HEXA_QUEUE_PREFIX, onError: (error) => log.warn({ err: error }, 'outbox pass failed; retrying') });
const pruning = setInterval(() => void pruneIdempotencyKeys(db).catch((error) => log.warn({ err: error }, 'pruning failed')), pruneIntervalMs);
closeOnSignal(
  async () => {
    clearInterval(pruning);
    await outbox.close();
    await db.destroy();
    redis.disconnect();
  },
  (message) => log.info(message),
);
outbox.relay.start(config.OUTBOX_RELAY_INTERVAL_MS);
log.info('files worker started: outbox relay');
