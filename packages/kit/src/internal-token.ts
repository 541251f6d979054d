import { createDecoder, createSigner, createVerifier, TokenError } from 'fast-jwt';
import { LRUCache } from 'lru-cache';
import { organizationRoles, serviceNames, workspaceRoles, type OrganizationRole, type ServiceName, type WorkspaceRole } from '@hexa/contract';
import { httpError } from './errors.js';

/** The header that carries the internal token from the gateway (or a service) to a service. */
export const internalTokenHeader = 'x-hexa-internal';

/** A caller signed in as a user, as the gateway verified and resolved them. */
export interface UserCaller {
  kind: 'user';
  userId: string;
  organizationRole: OrganizationRole;
  /** True when the user is Admin of at least one workspace. */
  adminSomewhere: boolean;
  /** The caller's effective role in the addressed workspace, when the path names one. */
  workspace?: { slug: string; role: WorkspaceRole; source: 'member' | 'organization' };
}

/** Why a service may trust a request: who the caller is. */
export type Caller = { kind: 'anonymous' } | { kind: 'service'; service: ServiceName } | UserCaller;

/** Internal tokens live just long enough for one hop. */
const internalTokenLifetimeMs = 30_000;
/**
 * A minted token is reused for this long (the same caller, audience and
 * operation), so that a busy caller does not sign every request: it still
 * has at least 20 s to live when sent. Verified tokens are cached likewise.
 */
const reuseMintedTokenMs = 10_000;
/** Distinct (caller, audience, operation) tokens kept for reuse, and verified tokens remembered. */
const tokenCacheEntries = 10_000;
const algorithm = 'EdDSA';

/** What a receiving route knows about itself: the operation and who may call it. */
export interface InternalOperation {
  /** `GET /workspaces/{slug}` */
  signature: string;
  callers: readonly ServiceName[];
}

export interface InternalTokens {
  readonly service: ServiceName;
  /** Mints a token for one call of one operation of `audience`. */
  sign(options: { audience: ServiceName; operation: string; caller: Caller }): string;
  /**
   * Verifies a token received by this service for `operation`: signed by the
   * issuer's own key, addressed to this service, minted for this operation,
   * from a service allowed to call it, with a caller that issuer may name.
   */
  verify(token: string | undefined, operation: InternalOperation): Caller;
}

const isServiceName = (value: unknown): value is ServiceName => serviceNames.includes(value as ServiceName);

function parseCaller(value: unknown, issuer: ServiceName): Caller {
  const caller = value as (Omit<Partial<UserCaller>, 'kind'> & { kind?: string; service?: unknown }) | null;
  if (caller === null || typeof caller !== 'object') throw httpError('invalid_token', 'The internal token names no caller.');
  if (caller.kind === 'service') {
    // A service speaks for itself only.
    if (caller.service !== issuer) throw httpError('invalid_token', 'A service token must name its own issuer as the caller.');
    return { kind: 'service', service: issuer };
  }
  // Only the gateway verifies access tokens, so only it may speak for a user or an anonymous client.
  if (issuer !== 'gateway') throw httpError('invalid_token', `The ${issuer} service may not act for a user.`);
  if (caller.kind === 'anonymous') return { kind: 'anonymous' };
  if (
    caller.kind !== 'user' ||
    typeof caller.userId !== 'string' ||
    !organizationRoles.includes(caller.organizationRole as OrganizationRole) ||
    typeof caller.adminSomewhere !== 'boolean' ||
    (caller.workspace !== undefined &&
      (typeof caller.workspace?.slug !== 'string' || !workspaceRoles.includes(caller.workspace.role) || !['member', 'organization'].includes(caller.workspace.source)))
  ) {
    throw httpError('invalid_token', 'The internal token names a malformed caller.');
  }
  return caller as UserCaller;
}

/**
 * Each service signs its internal tokens with its own Ed25519 key and holds
 * every service's public key. A token names its issuer, its audience and the
 * one operation (method and path template) it was minted for.
 *
 * @example
 * const tokens = createInternalTokens({ service: 'gateway', privateKey, publicKeys });
 * const token = tokens.sign({ audience: 'workspaces', operation: 'GET /workspaces/{slug}', caller });
 * // in workspaces: tokens.verify(token, { signature: 'GET /workspaces/{slug}', callers: ['gateway'] })
 */
export function createInternalTokens(options: { service: ServiceName; privateKey: string; publicKeys: Partial<Record<ServiceName, string>> }): InternalTokens {
  const signer = createSigner({ key: options.privateKey, algorithm, iss: options.service, expiresIn: internalTokenLifetimeMs });
  const minted = new LRUCache<string, string>({ max: tokenCacheEntries, ttl: reuseMintedTokenMs });
  const decode = createDecoder();
  const verifiers = new Map(
    Object.entries(options.publicKeys).map(([issuer, key]) => [
      issuer,
      createVerifier({
        key: key!,
        algorithms: [algorithm],
        allowedIss: issuer,
        allowedAud: options.service,
        requiredClaims: ['iss', 'aud', 'exp', 'op'],
        // A verified token is remembered until it expires: the same token seen again costs no signature check.
        cache: tokenCacheEntries,
      }),
    ]),
  );
  return {
    service: options.service,
    sign({ audience, operation, caller }) {
      const key = `${audience}\u0000${operation}\u0000${JSON.stringify(caller)}`;
      let token = minted.get(key);
      if (token === undefined) {
        token = signer({ aud: audience, op: operation, caller });
        minted.set(key, token);
      }
      return token;
    },
    verify(token, operation) {
      if (!token) throw httpError('unauthenticated', 'This service answers only requests forwarded by the gateway or another service.');
      let payload: { iss?: unknown; op?: unknown; caller?: unknown };
      try {
        const issuer = (decode(token) as { iss?: unknown }).iss;
        const verifier = typeof issuer === 'string' ? verifiers.get(issuer) : undefined;
        if (!verifier) throw httpError('invalid_token', 'The internal token comes from an unknown issuer.');
        payload = verifier(token) as typeof payload;
      } catch (error) {
        if (error instanceof TokenError && error.code === TokenError.codes.expired) throw httpError('token_expired', 'The internal token has expired.');
        if (error instanceof TokenError) throw httpError('invalid_token', 'The internal token is not valid.');
        throw error;
      }
      if (payload.op !== operation.signature) throw httpError('invalid_token', 'The internal token was minted for another operation.');
      const issuer = payload.iss;
      if (!isServiceName(issuer)) throw httpError('invalid_token', 'The internal token comes from an unknown issuer.');
      const caller = parseCaller(payload.caller, issuer);
      if (!operation.callers.includes(issuer)) throw httpError('forbidden', `The ${issuer} service may not call ${operation.signature}.`);
      return caller;
    },
  };
}

/** Access tokens: membership signs them (EdDSA), the gateway verifies them; both read these. */
export const accessTokenClaims = { issuer: 'hexa-membership', audience: 'hexa-api', algorithm: 'EdDSA' } as const;
