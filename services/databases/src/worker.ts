import pino from 'pino';
import { closeOnSignal, configOrExit, loggerOptions } from '@hexa/kit';
import { loadDatabasesConfig } from './config.js';
import { createDatabasesWorker } from './worker-runtime.js';

// The databases worker provisions workspace databases, archives and restores their logins, rotates
// passwords, delivers the outbox (status reports, audit entries) and re-queues work whose job was lost.
const config = configOrExit('databases-worker', loadDatabasesConfig);
const log = pino(loggerOptions('databases-worker', config.LOG_LEVEL));
const runtime = createDatabasesWorker({ config, log });
// Signal handling goes in before anything announces that the worker runs.
closeOnSignal(() => runtime.close(), (message) => log.info(message));
// Announced once its connections are ready: a close that meets a half-open connection fails it.
await runtime.start();
log.info('databases worker started: databases queue, outbox relay and reconciler');
