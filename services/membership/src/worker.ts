import pino from 'pino';
import { closeOnSignal, configOrExit, createDatabase, createRedis, createWorker, loggerOptions, pruneInbox } from '@hexa/kit';
import { loadMembershipConfig } from './config.js';
import type { MembershipDatabase } from './database.js';
import { membershipProcessors } from './modules/memberships/memberships-jobs.js';
import { createMembershipsService } from './modules/memberships/memberships-service.js';

const config = configOrExit('membership-worker', loadMembershipConfig);
const log = pino(loggerOptions('membership-worker', config.LOG_LEVEL));
const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
const redis = createRedis(config.REDIS_URL);
const memberships = createMembershipsService({ db, redis, queuePrefix: config.HEXA_QUEUE_PREFIX });
const worker = createWorker('membership', membershipProcessors(memberships), {
  connection: createRedis(config.REDIS_URL, 'worker'),
  prefix: config.HEXA_QUEUE_PREFIX,
});
worker.on('failed', (job, error) => log.warn({ jobId: job?.id, name: job?.name, err: error }, 'job failed'));
worker.on('completed', (job) => log.info({ jobId: job.id, name: job.name }, 'job completed'));
/** Processed job ids are pruned this often. */
const inboxPruneIntervalMs = 3_600_000;
const pruning = setInterval(() => void pruneInbox(db).catch((error) => log.warn({ err: error }, 'inbox pruning failed')), inboxPruneIntervalMs);
// Signal handling goes in before anything announces that the worker runs.
closeOnSignal(async () => {
  clearInterval(pruning);
  await worker.close();
  await db.destroy();
  redis.disconnect();
}, (message) => log.info(message));
// Announced once its connections are ready: a close that meets a half-open connection fails it.
await worker.waitUntilReady();
log.info('membership worker started');
