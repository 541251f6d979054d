import { configOrExit, createDatabase, createRedis, serve } from '@hexa/kit';
import { buildRunnerApp } from './app.js';
import { loadRunnerConfig } from './config.js';
import type { RunnerDatabase } from './database.js';

const config = configOrExit('runner', loadRunnerConfig);
const app = await buildRunnerApp({
  config,
  db: createDatabase<RunnerDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }),
  redis: createRedis(config.REDIS_URL),
});
await serve(app, { host: config.HOST, port: config.PORT });
