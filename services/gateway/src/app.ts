import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { actsAsAdminEverywhere, addressedSlug, backendServiceNames, fillPath, listOperations, loadDocument, publicDocument, type BackendServiceName, type ContractOperation, type JsonSchema, type Schemas } from '@hexa/contract';
import { createHttpApp, createInternalTokens, createServiceClient, httpError, Metrics, pingRedis, serviceUrlOf, wildcardParams, type Caller, type UserCaller } from '@hexa/kit';
import { AccessCache } from './access-cache.js';
import { registerAccessTokens } from './access-tokens.js';
import type { GatewayConfig } from './config.js';
import { registerConsole } from './console.js';
import { registerUpstream } from './proxy.js';
import { registerRateLimits } from './rate-limits.js';

export interface GatewayAppDeps {
  config: GatewayConfig;
  /** For readiness; may be down. */
  redis: Redis;
  /** A connection in subscriber mode, for access-change announcements. */
  subscriber: Redis;
  /** Where log lines go (standard output when left out). */
  logDestination?: DestinationStream;
}

const apiPrefix = '/api';

/**
 * The gateway validates only what it reads before forwarding: the path, and
 * the query parameter that names the workspace (`x-workspace-param`), so a
 * malformed slug never reaches a service; the rest of the query is the
 * service's to check.
 */
function workspaceQuerySchema(operation: ContractOperation): { querystring?: JsonSchema } {
  if (operation.workspaceParam?.in !== 'query') return {};
  const { name } = operation.workspaceParam;
  const properties = operation.schema.querystring.properties as Record<string, JsonSchema>;
  return { querystring: { type: 'object', required: [name], properties: { [name]: properties[name] } } };
}

/**
 * The gateway: the only door. It verifies the caller's access token,
 * resolves their role in the addressed workspace (never revealing a workspace
 * to a non-member), and forwards the request with an internal token.
 */
export async function buildGatewayApp(deps: GatewayAppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const services = Object.fromEntries(backendServiceNames.map((service) => [service, serviceUrlOf(config, service)])) as Record<BackendServiceName, string>;
  const cache = new AccessCache({ ttlMs: config.ACCESS_CACHE_TTL_MS, maxEntries: config.ACCESS_CACHE_MAX_ENTRIES });
  const metrics = new Metrics('gateway');
  // Shows the bound at work: however many workspaces clients address, this stays at most ACCESS_CACHE_MAX_ENTRIES.
  metrics.gauge('hexa_gateway_access_cache_entries', 'Resolved roles (user × workspace) the gateway holds now.', [], async (set) => set({}, cache.size));
  const app = createHttpApp({
    service: 'gateway',
    metrics,
    logLevel: config.LOG_LEVEL,
    // The platform's access log: one line per client request, at the door.
    accessLogLevel: 'info',
    platformPrefix: apiPrefix,
    trustProxy: config.HEXA_TRUST_PROXY,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    // Uploads and downloads stream through for as long as they flow; a silent connection is cut.
    requestTimeoutMs: 0,
    idleTimeoutMs: config.UPSTREAM_BODY_IDLE_TIMEOUT_MS,
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

  // The gateway never reads a body: the raw stream goes to the service, which parses it and applies
  // its own size limit while reading. Only a body announced absurdly large is refused here, before
  // anything is forwarded; the connection is closed rather than the rest of the body read.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    if (Number(request.headers['content-length']) > config.MAX_REQUEST_BODY_BYTES) {
      done(httpError('body_too_large', `A request body may not exceed ${config.MAX_REQUEST_BODY_BYTES} bytes.`, { headers: { connection: 'close' } }), undefined);
      return;
    }
    done(null, payload);
  });

  const document = loadDocument();
  const served = publicDocument(document);
  await app.register(swagger, { mode: 'static', specification: { document: served as never } });
  await app.register(swaggerUi, { routePrefix: `${apiPrefix}/docs` });
  app.get(`${apiPrefix}/openapi.json`, { schema: { hide: true } }, async () => served);
  await registerConsole(app, { root: config.HEXA_CONSOLE_DIR, apiPrefix });

  const tokens = createInternalTokens({ service: 'gateway', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const membership = createServiceClient({ baseUrl: config.MEMBERSHIP_URL, tokens, audience: 'membership' });
  const { authenticate, forgetUser: forgetPersonalAccessTokens } = await registerAccessTokens(app, {
    publicKey: config.HEXA_JWT_PUBLIC_KEY,
    membership,
    runner: createServiceClient({ baseUrl: config.RUNNER_URL, tokens, audience: 'runner' }),
    runTokenCacheTtlMs: config.RUN_TOKEN_CACHE_TTL_MS,
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
      { operationId: 'register', perMinute: config.LOGIN_RATE_LIMIT_PER_MINUTE },
      { operationId: 'refreshSession', perMinute: config.REFRESH_RATE_LIMIT_PER_MINUTE },
    ],
  });
  cache.listen(deps.subscriber, config.HEXA_QUEUE_PREFIX);

  async function resolveAccess(userId: string, slug: string | undefined): Promise<Schemas['Access']> {
    try {
      return await cache.resolve(userId, slug, () => membership.call('getUserAccess', { params: { userId }, query: slug ? { workspace: slug } : {} }));
    } catch (error) {
      if ((error as { code?: string }).code === 'not_found') throw httpError('invalid_token', 'The user of this token no longer exists.');
      throw error;
    }
  }

  /** A user's access changed (membership said so in its answer): the next request asks membership again. */
  function forgetAccess(userId: string): void {
    cache.forget(userId);
    forgetPersonalAccessTokens(userId);
  }

  async function callerOf(request: FastifyRequest, operation: ContractOperation): Promise<Caller> {
    if (operation.isPublic) return { kind: 'anonymous' };
    const { userId, workspaceSlug } = await authenticate(request, operation);
    // Validated against the contract before the handler runs (the `{slug}`, or the query parameter naming the workspace).
    const addressed = addressedSlug(operation, request) as string | undefined;
    // A run token's other workspaces look like ones that do not exist.
    if (workspaceSlug !== undefined && addressed !== undefined && addressed !== workspaceSlug) throw httpError('workspace_not_found');
    const access = await resolveAccess(userId, addressed);
    const caller: UserCaller = { kind: 'user', userId, organizationRole: access.organizationRole, adminSomewhere: access.adminSomewhere };
    if (addressed) {
      // An archived workspace is gone for its members, on every operation of every service; organization
      // Owners and Admins still reach it (to restore it; each service decides what else they may do there).
      if (access.workspaceArchived && !actsAsAdminEverywhere(access.organizationRole)) throw httpError('workspace_not_found');
      // Organization Owners and Admins act as Admin everywhere, also where a membership gives them less.
      if (access.workspaceRole === 'ADMIN' || (access.workspaceRole && !actsAsAdminEverywhere(access.organizationRole))) {
        caller.workspace = { slug: addressed, role: access.workspaceRole, source: 'member' };
      } else if (actsAsAdminEverywhere(access.organizationRole)) caller.workspace = { slug: addressed, role: 'ADMIN', source: 'organization' };
      // Unknown and not-yours look the same from outside.
      else throw httpError('workspace_not_found');
    }
    return caller;
  }

  const timeouts = { headersTimeoutMs: config.UPSTREAM_HEADERS_TIMEOUT_MS, bodyIdleTimeoutMs: config.UPSTREAM_BODY_IDLE_TIMEOUT_MS };
  const operations = listOperations(document).filter((operation) => operation.service !== 'gateway' && !operation.internal);
  for (const [service, baseUrl] of Object.entries(services)) {
    // One scope per service: its own connection pool, and the routes that forward to it.
    await app.register(async (scope) => {
      const forwardTo = await registerUpstream(scope, { service, baseUrl, timeouts });
      for (const operation of operations.filter((candidate) => candidate.service === service)) {
        scope.route({
          method: operation.method.toUpperCase() as 'GET',
          url: `${apiPrefix}${operation.routePath}`,
          // A malformed slug (`..`, a backslash, a NUL) is refused here and never reaches a service.
          schema: { hide: true, ...(operation.schema.params ? { params: operation.schema.params } : {}), ...workspaceQuerySchema(operation) },
          // A file's path spans segments (`…/files/a/b.csv`): Fastify's `*`, named as the contract names it, then validated like any parameter.
          ...(operation.wildcard ? { preValidation: async (request: FastifyRequest) => void (request.params = wildcardParams(request.params, operation.wildcard!)) } : {}),
          handler: async (request, reply) => {
            const caller = await callerOf(request, operation);
            const internalToken = tokens.sign({ audience: operation.service, operation: operation.signature, caller });
            // The upstream path is the operation's template, each parameter encoded: nothing else can be reached.
            const path = fillPath(operation.path, request.params as Record<string, unknown>, operation.wildcard);
            return forwardTo(request, reply, { path, internalToken, withCookies: operation.tags.includes('auth'), onAccessChanged: forgetAccess });
          },
        });
      }
    });
  }

  app.addHook('onClose', async () => {
    deps.subscriber.disconnect();
    deps.redis.disconnect();
  });
  return app;
}
