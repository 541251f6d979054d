import pino from 'pino';
import { closeOnSignal, configOrExit, loggerOptions } from '@hexa/kit';
import { loadRunnerConfig } from './config.js';
import { createRunnerWorker } from './worker-runtime.js';

// The runner worker starts run containers on the Docker engine, watches them, stores their output,
// applies cancellations and time limits, and adopts the containers of live runs after a restart.
const config = configOrExit('runner-worker', loadRunnerConfig);
const log = pino(loggerOptions('runner-worker', config.LOG_LEVEL));
const runtime = createRunnerWorker({ config, log });
closeOnSignal(() => runtime.close(), (message) => log.info(message));
await runtime.start();
log.info('runner worker started: runner queue, scheduler, container watchers and outbox relay');
