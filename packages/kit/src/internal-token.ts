import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { OrganizationRole, WorkspaceRole } from '@hexa/contract';
import { httpError } from './errors.js';

/** The header that carries the internal token from the gateway (or a service) to a service. */
export const internalTokenHeader = 'x-hexa-internal';

/** Why a service may trust a request: who the caller is, as resolved by the gateway. */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'service'; service: string }
  | {
      kind: 'user';
      userId: string;
      organizationRole: OrganizationRole;
      /** True when the user is Admin of at least one workspace. */
      adminSomewhere: boolean;
      /** The caller's effective role in the addressed workspace, when the path names one. */
      workspace?: { slug: string; role: WorkspaceRole; source: 'member' | 'organization' };
    };

/** Internal tokens live just long enough for one hop. */
const internalTokenLifetimeSeconds = 60;

const encoder = new TextEncoder();

/**
 * Signs the short-lived token a service verifies before answering.
 *
 * @example
 * const token = await signInternalToken(secret, { issuer: 'gateway', audience: 'workspaces', caller });
 */
export async function signInternalToken(secret: string, options: { issuer: string; audience: string; caller: Caller }): Promise<string> {
  return new SignJWT({ caller: options.caller })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(`${internalTokenLifetimeSeconds}s`)
    .sign(encoder.encode(secret));
}

/** Verifies an internal token addressed to `audience`; throws a 401 AppError otherwise. */
export async function verifyInternalToken(secret: string, token: string | undefined, audience: string): Promise<Caller> {
  if (!token) throw httpError('unauthenticated', 'This service answers only requests forwarded by the gateway.');
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), { audience, algorithms: ['HS256'] });
    const caller = payload.caller as Caller | undefined;
    if (!caller || typeof caller !== 'object' || !('kind' in caller)) throw httpError('invalid_token');
    return caller;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw httpError('token_expired', 'The internal token has expired.');
    if (error instanceof joseErrors.JOSEError) throw httpError('invalid_token', 'The internal token is not valid.');
    throw error;
  }
}

/** Access tokens: membership signs them (EdDSA), the gateway verifies them; both read these. */
export const accessTokenClaims = { issuer: 'hexa-membership', audience: 'hexa-api', algorithm: 'EdDSA' } as const;
