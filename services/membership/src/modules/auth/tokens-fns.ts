import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import type { FastifyJWTOptions } from '@fastify/jwt';
import { accessTokenClaims } from '@hexa/kit';

/**
 * How @fastify/jwt signs access tokens: EdDSA with membership's private key,
 * for the issuer and audience the gateway checks. The public half is derived
 * from the private key (the plugin wants both; membership verifies nothing).
 */
export function accessTokenJwtOptions(privateKeyPem: string, ttlSeconds: number): FastifyJWTOptions {
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return {
    secret: { private: privateKeyPem, public: publicKeyPem },
    // A number is seconds to @fastify/jwt.
    sign: { algorithm: accessTokenClaims.algorithm, iss: accessTokenClaims.issuer, aud: accessTokenClaims.audience, expiresIn: ttlSeconds },
    verify: { algorithms: [accessTokenClaims.algorithm], allowedIss: accessTokenClaims.issuer, allowedAud: accessTokenClaims.audience },
  };
}

/** 256 random bits, URL-safe. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256, hex: what is stored of a refresh token or a personal access token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
