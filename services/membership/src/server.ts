import { configOrExit, createDatabase, createRedis, serve } from '@hexa/kit';
import { buildMembershipApp } from './app.js';
import { loadMembershipConfig } from './config.js';
import type { MembershipDatabase } from './database.js';

const config = configOrExit('membership', loadMembershipConfig);
const app = await buildMembershipApp({
  config,
  db: createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }),
  redis: createRedis(config.REDIS_URL),
});
await serve(app, { host: config.HOST, port: config.PORT });
