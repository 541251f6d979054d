import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { actsAsAdminEverywhere, fillPath, listOperations, loadDocument, publicDocument, type ContractOperation, type Schemas } from '@hexa/contract';
import { createHttpApp, createInternalTokens, createServiceClient, httpError, pingRedis, type Caller, type UserCaller } from '@hexa/kit';
import { AccessCache } from './access-cache.js';
import { registerAccessTokens } from './access-tokens.js';
import type { GatewayConfig } from './config.js';
import { forward } from './proxy.js';
import { registerRateLimits } from './rate-limits.js';

export interface GatewayAppDeps {
  config: GatewayConfig;
  /** For readiness; may be down. */
  redis: Redis;
  /** A connection in subscriber mode, for access-change announcements. */
  subscriber: Redis;
}

const apiPrefix = '/api';

/**
 * The gateway: the only door. It verifies the caller's access token,
 * resolves their role in the addressed workspace (never revealing a workspace
 * to a non-member), and forwards the request with an internal token.
 */
export async function buildGatewayApp(deps: GatewayAppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const services = { membership: config.MEMBERSHIP_URL, workspaces: config.WORKSPACES_URL } as const;
  const app = createHttpApp({
    service: 'gateway',
    logLevel: config.LOG_LEVEL,
    platformPrefix: apiPrefix,
    readiness: {
      redis: () => pingRedis(deps.redis),
      ...Object.fromEntries(
        Object.entries(services).map(([name, baseUrl]) => [
          name,
          async () => {
            const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1500) });
            if (!response.ok) throw new Error(`${name} is not ready`);
          },
        ]),
      ),
    },
  });

  // The gateway forwards bodies untouched; the service behind it parses and validates them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const document = loadDocument();
  const served = publicDocument(document);
  await app.register(swagger, { mode: 'static', specification: { document: served as never } });
  await app.register(swaggerUi, { routePrefix: `${apiPrefix}/docs` });
  app.get(`${apiPrefix}/openapi.json`, { schema: { hide: true } }, async () => served);

  const tokens = createInternalTokens({ service: 'gateway', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const membership = createServiceClient({ baseUrl: config.MEMBERSHIP_URL, tokens, audience: 'membership' });
  const authenticate = await registerAccessTokens(app, {
    publicKey: config.HEXA_JWT_PUBLIC_KEY,
    membership,
    subscriber: deps.subscriber,
    queuePrefix: config.HEXA_QUEUE_PREFIX,
    personalAccessTokenCacheTtlMs: config.PERSONAL_ACCESS_TOKEN_CACHE_TTL_MS,
    document,
  });
  await registerRateLimits(app, {
    redis: deps.redis,
    keyPrefix: config.HEXA_QUEUE_PREFIX,
    routePrefix: apiPrefix,
    limits: [
      { operationId: 'login', perMinute: config.LOGIN_RATE_LIMIT_PER_MINUTE },
      { operationId: 'refreshSession', perMinute: config.REFRESH_RATE_LIMIT_PER_MINUTE },
    ],
  });
  const cache = new AccessCache(config.ACCESS_CACHE_TTL_MS);
  cache.listen(deps.subscriber, config.HEXA_QUEUE_PREFIX);

  async function resolveAccess(userId: string, slug: string | undefined): Promise<Schemas['Access']> {
    const cached = cache.get(userId, slug);
    if (cached) return cached;
    try {
      const access = await membership.call('getUserAccess', { params: { userId }, query: slug ? { workspace: slug } : {} });
      cache.set(userId, slug, access);
      return access;
    } catch (error) {
      if ((error as { code?: string }).code === 'not_found') throw httpError('invalid_token', 'The user of this token no longer exists.');
      throw error;
    }
  }

  async function callerOf(request: FastifyRequest, operation: ContractOperation): Promise<Caller> {
    if (operation.isPublic) return { kind: 'anonymous' };
    const { userId } = await authenticate(request, operation);
    // Path parameters were validated against the contract before the handler runs.
    const addressed = (request.params as Record<string, string | undefined>).slug;
    const access = await resolveAccess(userId, addressed);
    const caller: UserCaller = { kind: 'user', userId, organizationRole: access.organizationRole, adminSomewhere: access.adminSomewhere };
    if (addressed) {
      if (access.workspaceRole) caller.workspace = { slug: addressed, role: access.workspaceRole, source: 'member' };
      else if (actsAsAdminEverywhere(access.organizationRole)) caller.workspace = { slug: addressed, role: 'ADMIN', source: 'organization' };
      // Unknown and not-yours look the same from outside.
      else throw httpError('workspace_not_found');
    }
    return caller;
  }

  for (const operation of listOperations(document)) {
    if (operation.service === 'gateway' || operation.internal) continue;
    const baseUrl = services[operation.service];
    app.route({
      method: operation.method.toUpperCase() as 'GET',
      url: `${apiPrefix}${operation.routePath}`,
      // A malformed slug (`..`, a backslash, a NUL) is refused here and never reaches a service.
      schema: { hide: true, ...(operation.schema.params ? { params: operation.schema.params } : {}) },
      handler: async (request, reply) => {
        const caller = await callerOf(request, operation);
        const internalToken = tokens.sign({ audience: operation.service, operation: operation.signature, caller });
        // The upstream path is the operation's template, each parameter encoded: nothing else can be reached.
        const path = fillPath(operation.path, request.params as Record<string, unknown>);
        return forward(request, reply, { baseUrl, path, internalToken, withCookies: operation.tags.includes('auth') });
      },
    });
  }

  app.addHook('onClose', async () => {
    deps.subscriber.disconnect();
    deps.redis.disconnect();
  });
  return app;
}
