import { configOrExit, createDatabase, createRedis, serve } from '@hexa/kit';
import { buildWorkspacesApp } from './app.js';
import { loadWorkspacesConfig } from './config.js';
import type { WorkspacesDatabase } from './database.js';

const config = configOrExit('workspaces', loadWorkspacesConfig);
const app = await buildWorkspacesApp({
  config,
  db: createDatabase<WorkspacesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }),
  redis: createRedis(config.REDIS_URL),
});
await serve(app, { host: config.HOST, port: config.PORT });
