import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { bindOperations, createHttpApp, createInternalTokens, pingDatabase, pingRedis } from '@hexa/kit';
import type { MembershipConfig } from './config.js';
import type { MembershipDatabase } from './database.js';
import { createAuthService } from './modules/auth/auth-service.js';
import { authHandlers } from './modules/auth/auth-routes.js';
import { createLoginLimiter } from './modules/auth/login-limiter.js';
import { importSigningKey } from './modules/auth/tokens-fns.js';
import { createMembershipsService } from './modules/memberships/memberships-service.js';
import { membershipsHandlers } from './modules/memberships/memberships-routes.js';
import { createUsersService } from './modules/users/users-service.js';
import { usersHandlers } from './modules/users/users-routes.js';

export interface MembershipAppDeps {
  config: MembershipConfig;
  db: Kysely<MembershipDatabase>;
  redis: Redis;
}

/** Builds the membership service's HTTP app from its dependencies; closing it closes them. */
export async function buildMembershipApp(deps: MembershipAppDeps): Promise<FastifyInstance> {
  const { config, db, redis } = deps;
  const app = createHttpApp({
    service: 'membership',
    logLevel: config.LOG_LEVEL,
    readiness: { postgres: () => pingDatabase(db), redis: () => pingRedis(redis) },
  });
  await app.register(cookie);

  const users = createUsersService({ db });
  const memberships = createMembershipsService({ db, redis, queuePrefix: config.HEXA_QUEUE_PREFIX });
  const auth = createAuthService({
    db,
    signingKey: await importSigningKey(config.HEXA_JWT_PRIVATE_KEY),
    limiter: createLoginLimiter({ db, windowSeconds: config.LOGIN_WINDOW_SECONDS }),
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
    maxLoginFailures: config.LOGIN_MAX_FAILURES,
  });

  bindOperations(app, {
    service: 'membership',
    idempotency: db,
    tokens: createInternalTokens({ service: 'membership', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS }),
    handlers: {
      ...authHandlers({ auth, cookieSecure: config.HEXA_COOKIE_SECURE === 'true', refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS }),
      ...usersHandlers(users),
      ...membershipsHandlers(memberships),
    },
  });

  app.addHook('onClose', async () => {
    await db.destroy();
    redis.disconnect();
  });
  return app;
}
