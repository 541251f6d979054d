import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { componentSchema, type ContractOperation } from '@hexa/contract';
import { AppError, accessTokenClaims, httpError, type ServiceClient } from '@hexa/kit';
import { PersonalAccessTokenCache, createPersonalAccessTokenResolver } from './personal-access-tokens.js';
import { createRunTokenResolver, runTokenPrefix, type RunTokenGrant } from './run-tokens.js';

const { issuer, audience, algorithm } = accessTokenClaims;

/** Verified access tokens kept by @fastify/jwt (fast-jwt's cache, each until its own expiry): the hot path skips the signature check. */
const verifiedTokenCacheSize = 10_000;

/** Who sent a request, and with what. */
export interface Authenticated {
  userId: string;
  credential: 'session' | 'personal-access-token' | 'run-token';
  /** A run token may address this workspace only. */
  workspaceSlug?: string;
}

/** @fastify/jwt's and fast-jwt's errors, as the platform's problem codes. */
function accessTokenError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER') return httpError('unauthenticated', 'Send an access token: `Authorization: Bearer <token>`.');
  if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' || code === 'FAST_JWT_EXPIRED') return httpError('token_expired', 'The access token has expired; refresh it.');
  if (typeof code === 'string' && /^(FST|FAST)_JWT_/.test(code)) return httpError('invalid_token', 'The access token is not valid.');
  throw error;
}

/**
 * Operations that accept only a signed-in session, not a personal access
 * token: those whose `security` names the `bearer` scheme alone (creating and
 * revoking tokens — a leaked read-only token must not mint a full one).
 */
function sessionOnlyOperations(document: Record<string, unknown>): Set<string> {
  const paths = (document as { paths: Record<string, Record<string, { operationId?: string; security?: Record<string, unknown>[] }>> }).paths;
  const ids = new Set<string>();
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const schemes = operation.security?.flatMap((requirement) => Object.keys(requirement)) ?? [];
      if (operation.operationId && schemes.length > 0 && !schemes.includes('personalAccessToken')) ids.add(operation.operationId);
    }
  }
  return ids;
}

/**
 * Registers @fastify/jwt on the gateway to verify membership's access tokens
 * (public key only, EdDSA only, issuer and audience checked, verified tokens
 * cached) and returns the function that authenticates a request: an access
 * token, or a personal access token (`hexa_pat_…`) resolved through
 * membership and held to its scope.
 */
export async function registerAccessTokens(
  app: FastifyInstance,
  options: {
    publicKey: string;
    membership: ServiceClient<'membership'>;
    runner: ServiceClient<'runner'>;
    subscriber: Redis;
    queuePrefix: string;
    personalAccessTokenCacheTtlMs: number;
    runTokenCacheTtlMs: number;
    document: Record<string, unknown>;
  },
): Promise<{ authenticate: (request: FastifyRequest, operation: ContractOperation) => Promise<Authenticated>; forgetUser: (userId: string) => void }> {
  await app.register(fastifyJwt, {
    secret: { public: options.publicKey },
    verify: { algorithms: [algorithm], allowedIss: issuer, allowedAud: audience, requiredClaims: ['sub', 'exp'], cache: verifiedTokenCacheSize },
  });
  const cache = new PersonalAccessTokenCache(options.personalAccessTokenCacheTtlMs);
  cache.listen(options.subscriber, options.queuePrefix);
  const resolvePersonalAccessToken = createPersonalAccessTokenResolver({ membership: options.membership, cache });
  const runTokenCache = new PersonalAccessTokenCache<RunTokenGrant>(options.runTokenCacheTtlMs);
  runTokenCache.listen(options.subscriber, options.queuePrefix);
  const resolveRunToken = createRunTokenResolver({ runner: options.runner, cache: runTokenCache });
  const personalAccessTokenPattern = new RegExp(String(componentSchema('PersonalAccessTokenSecret', options.document).pattern));
  const sessionOnly = sessionOnlyOperations(options.document);

  async function authenticate(request: FastifyRequest, operation: ContractOperation): Promise<Authenticated> {
    const authorization = request.headers.authorization;
    const bearer = authorization === undefined ? undefined : /^Bearer (\S+)$/i.exec(authorization)?.[1];
    if (authorization !== undefined && bearer === undefined) throw httpError('invalid_token', 'The Authorization header must be `Bearer <token>`.');

    if (bearer?.startsWith('hexa_pat_')) {
      if (!personalAccessTokenPattern.test(bearer)) throw httpError('invalid_token', 'This is not a personal access token.');
      const grant = await resolvePersonalAccessToken(bearer);
      if (sessionOnly.has(operation.operationId)) {
        throw httpError('forbidden', 'A personal access token cannot do this; sign in (an access token from /auth/login) to manage tokens.');
      }
      if (grant.scope === 'read-only' && operation.method !== 'get') throw httpError('forbidden', 'This personal access token is read-only.');
      return { userId: grant.userId, credential: 'personal-access-token' };
    }

    if (bearer?.startsWith(runTokenPrefix)) {
      if (!/^hexa_run_[A-Za-z0-9_-]{20,100}$/.test(bearer)) throw httpError('invalid_token', 'This is not a run token.');
      const grant = await resolveRunToken(bearer);
      // Code in a run speaks for its launcher in its own workspace only (and may ask who that is).
      if (sessionOnly.has(operation.operationId) || (!operation.path.includes('{slug}') && operation.operationId !== 'getMe')) {
        throw httpError('forbidden', 'A run token can only address its own workspace.');
      }
      return { userId: grant.userId, credential: 'run-token', workspaceSlug: grant.workspaceSlug };
    }

    let payload: { sub?: unknown };
    try {
      payload = await request.jwtVerify<{ sub?: unknown }>();
    } catch (error) {
      throw accessTokenError(error);
    }
    if (typeof payload.sub !== 'string') throw httpError('invalid_token', 'The access token names no user.');
    return { userId: payload.sub, credential: 'session' };
  }
  return {
    authenticate,
    forgetUser: (userId) => {
      cache.forgetUser(userId);
      runTokenCache.forgetUser(userId);
    },
  };
}
