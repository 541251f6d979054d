import { configOrExit, createRedis, serve } from '@hexa/kit';
import { buildGatewayApp } from './app.js';
import { loadGatewayConfig } from './config.js';

const config = configOrExit('gateway', loadGatewayConfig);
const app = await buildGatewayApp({
  config,
  redis: createRedis(config.REDIS_URL),
  subscriber: createRedis(config.REDIS_URL, 'subscriber'),
});
await serve(app, { host: config.HOST, port: config.PORT });
