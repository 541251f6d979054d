import { Redis } from 'ioredis';
import { configOrExit, createRedis, serve } from '@hexa/kit';
import { buildGatewayApp } from './app.js';
import { loadGatewayConfig } from './config.js';

const config = configOrExit('gateway', loadGatewayConfig);
const app = await buildGatewayApp({
  config,
  redis: createRedis(config.REDIS_URL),
  subscriber: new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }).on('error', () => undefined),
});
await serve(app, { host: config.HOST, port: config.PORT });
