import cookie from '@fastify/cookie';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { bindOperations, createHttpApp, createInternalTokens, createQueue, createServiceClient, Metrics, pingDatabase, pingRedis, registerOutboxMetrics, registerQueueMetrics } from '@hexa/kit';
import type { MembershipConfig } from './config.js';
import type { MembershipDatabase } from './database.js';
import { createAuthService } from './modules/auth/auth-service.js';
import { authHandlers } from './modules/auth/auth-routes.js';
import { createLoginLimiter } from './modules/auth/login-limiter.js';
import { accessTokenJwtOptions } from './modules/auth/tokens-fns.js';
import { createInvitationResponsesService } from './modules/invitations/invitation-responses-service.js';
import { invitationsHandlers } from './modules/invitations/invitations-routes.js';
import { createInvitationsService } from './modules/invitations/invitations-service.js';
import { membersHandlers } from './modules/members/members-routes.js';
import { createMembersService } from './modules/members/members-service.js';
import { createAccessAnnouncer } from './modules/memberships/access-announcer.js';
import { createMembershipsService } from './modules/memberships/memberships-service.js';
import { membershipsHandlers } from './modules/memberships/memberships-routes.js';
import { createPersonalAccessTokensService } from './modules/personal-access-tokens/personal-access-tokens-service.js';
import { personalAccessTokensHandlers } from './modules/personal-access-tokens/personal-access-tokens-routes.js';
import { hashPassword, verifyPassword, type PasswordVerifier } from './modules/users/passwords.js';
import { createUsersService } from './modules/users/users-service.js';
import { usersHandlers } from './modules/users/users-routes.js';
import { archivedWorkspacesHandlers } from './modules/workspaces/archived-workspaces-routes.js';
import { createArchivedWorkspacesService } from './modules/workspaces/archived-workspaces-service.js';
import { createWorkspaceDirectory } from './modules/workspaces/workspace-directory.js';

export interface MembershipAppDeps {
  config: MembershipConfig;
  db: Kysely<MembershipDatabase>;
  redis: Redis;
  /** How sign-in checks a password; argon2id (`verifyPassword`) unless another verifier is given. */
  verifyPassword?: PasswordVerifier;
}

/** Builds the membership service's HTTP app from its dependencies; closing it closes them. */
export async function buildMembershipApp(deps: MembershipAppDeps): Promise<FastifyInstance> {
  const { config, db, redis } = deps;
  // Requests never write to Redis: jobs go through the outbox, which the worker relays.
  const metrics = new Metrics('membership');
  const membershipQueue = createQueue('membership', { connection: redis, prefix: config.HEXA_QUEUE_PREFIX });
  registerOutboxMetrics(metrics, db);
  registerQueueMetrics(metrics, [membershipQueue]);
  const app = createHttpApp({
    service: 'membership',
    logLevel: config.LOG_LEVEL,
    metrics,
    readiness: { postgres: () => pingDatabase(db), redis: () => pingRedis(redis) },
  });
  await app.register(cookie);
  await app.register(fastifyJwt, accessTokenJwtOptions(config.HEXA_JWT_PRIVATE_KEY, config.ACCESS_TOKEN_TTL_SECONDS));

  const announceAccessChanged = createAccessAnnouncer({ redis, queuePrefix: config.HEXA_QUEUE_PREFIX });
  const tokens = createInternalTokens({ service: 'membership', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const workspaces = createWorkspaceDirectory(createServiceClient({ baseUrl: config.WORKSPACES_URL, tokens, audience: 'workspaces' }));
  const users = createUsersService({ db });
  const memberships = createMembershipsService({ db, redis, queuePrefix: config.HEXA_QUEUE_PREFIX });
  const personalAccessTokens = createPersonalAccessTokensService({ db, announceAccessChanged });
  const auth = createAuthService({
    db,
    signAccessToken: (userId) => app.jwt.sign({ sub: userId }),
    verifyPassword: deps.verifyPassword ?? verifyPassword,
    limiter: createLoginLimiter({ db, windowSeconds: config.LOGIN_WINDOW_SECONDS, maxAttempts: config.LOGIN_MAX_FAILURES }),
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
    refreshReuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
  });
  const invitations = createInvitationsService({ db, workspaces, ttlDays: config.INVITATION_TTL_DAYS, perWorkspacePerDay: config.INVITATIONS_PER_WORKSPACE_PER_DAY });
  const responses = createInvitationResponsesService({ db, workspaces, hashPassword, announceAccessChanged, openSession: auth.openSession });
  const members = createMembersService({ db, announceAccessChanged });
  const archivedWorkspaces = createArchivedWorkspacesService({ db, workspaces, announceAccessChanged });

  bindOperations(app, {
    service: 'membership',
    idempotency: db,
    idempotencyLeaseSeconds: config.HEXA_IDEMPOTENCY_LEASE_SECONDS,
    tokens,
    handlers: {
      ...authHandlers({ auth, publicUrl: config.HEXA_PUBLIC_URL }),
      ...usersHandlers(users),
      ...membershipsHandlers(memberships),
      ...personalAccessTokensHandlers(personalAccessTokens),
      ...membersHandlers(members),
      ...invitationsHandlers({ invitations, responses, publicUrl: config.HEXA_PUBLIC_URL }),
      ...archivedWorkspacesHandlers(archivedWorkspaces),
    },
  });

  app.addHook('onClose', async () => {
    await membershipQueue.close();
    await db.destroy();
    redis.disconnect();
  });
  return app;
}
