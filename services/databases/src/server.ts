import { configOrExit, createDatabase, createRedis, serve } from '@hexa/kit';
import { buildDatabasesApp } from './app.js';
import { loadDatabasesConfig } from './config.js';
import type { DatabasesDatabase } from './database.js';

const config = configOrExit('databases', loadDatabasesConfig);
const app = await buildDatabasesApp({
  config,
  db: createDatabase<DatabasesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }),
  redis: createRedis(config.REDIS_URL),
});
await serve(app, { host: config.HOST, port: config.PORT });
