import { configOrExit, createDatabase, createRedis, serve } from '@hexa/kit';
import { buildFilesApp } from './app.js';
import { loadFilesConfig } from './config.js';
import type { FilesDatabase } from './database.js';

const config = configOrExit('files', loadFilesConfig);
const app = await buildFilesApp({
  config,
  db: createDatabase<FilesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }),
  redis: createRedis(config.REDIS_URL),
});
await serve(app, { host: config.HOST, port: config.PORT });
