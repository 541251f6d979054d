import pino from 'pino';
import { closeOnSignal, configOrExit, createDatabase, createRedis, createWorker, loggerOptions } from '@hexa/kit';
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
// Signal handling goes in before anything announces that the worker runs.
closeOnSignal(async () => {
  await worker.close();
  await db.destroy();
  redis.disconnect();
}, (message) => log.info(message));
log.info('membership worker started');
