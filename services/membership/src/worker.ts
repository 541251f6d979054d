import pino from 'pino';
import { closeOnSignal, configOrExit, createDatabase, loggerOptions } from '@hexa/kit';
import { loadMembershipConfig } from './config.js';
import type { MembershipDatabase } from './database.js';
import { createMembershipWorker } from './membership-worker.js';
import { mailDestination } from './modules/mail/mail-transport.js';

const config = configOrExit('membership-worker', loadMembershipConfig);
const log = pino(loggerOptions('membership-worker', config.LOG_LEVEL));
const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
const running = createMembershipWorker({ config, db, log });
// Signal handling goes in before anything announces that the worker runs.
closeOnSignal(async () => {
  await running.close();
  await db.destroy();
}, (message) => log.info(message));
// Announced once its connections are ready: a close that meets a half-open connection fails it.
await running.start();
log.info(`membership worker started: outbox relay, membership queue; ${mailDestination({ smtpUrl: config.HEXA_SMTP_URL, mailDir: config.HEXA_MAIL_DIR })}`);
