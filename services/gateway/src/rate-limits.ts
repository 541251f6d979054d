import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { getOperation, type OperationId } from '@hexa/contract';
import { httpError } from '@hexa/kit';

/** A budget per client address on one operation. */
export interface AddressLimit {
  operationId: OperationId;
  perMinute: number;
}

/**
 * Per-address limits on the operations a guesser hammers (sign-in, registration
 * with an invitation token, refresh),
 * with @fastify/rate-limit. The address is `request.ip`, which follows the
 * gateway's `trustProxy` setting (the real client behind a load balancer).
 * Counters live in Redis so that every gateway replica shares them; when
 * Redis is down the limit is skipped (`skipOnError`): signing in must never
 * depend on Redis, and membership's per-account budget, in PostgreSQL, still
 * protects each account.
 *
 * Call before the routes are declared: each limited route is marked as Fastify
 * adds it.
 */
export async function registerRateLimits(app: FastifyInstance, options: { redis: Redis; keyPrefix: string; routePrefix: string; limits: AddressLimit[] }): Promise<void> {
  const byRoute = new Map(
    options.limits.map((limit) => {
      const operation = getOperation(limit.operationId);
      return [`${operation.method.toUpperCase()} ${options.routePrefix}${operation.routePath}`, limit] as const;
    }),
  );
  // Runs before the plugin's own onRoute hook, which reads `config.rateLimit`.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const limit = methods.map((method) => byRoute.get(`${method} ${route.url}`)).find((found) => found !== undefined);
    if (limit) route.config = { ...route.config, rateLimit: { max: limit.perMinute, timeWindow: 60_000 } };
  });
  await app.register(rateLimit, {
    global: false,
    redis: options.redis,
    nameSpace: `${options.keyPrefix}:rate-limit:`,
    skipOnError: true,
    errorResponseBuilder: (_request, context) => {
      const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000));
      return httpError('too_many_requests', `Too many requests from your address; try again in ${context.after}.`, { headers: { 'retry-after': String(retryAfter) } });
    },
  });
}
