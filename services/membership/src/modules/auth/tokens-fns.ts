import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import { accessTokenClaims } from '@hexa/kit';

const { issuer: accessTokenIssuer, audience: accessTokenAudience, algorithm: accessTokenAlgorithm } = accessTokenClaims;

export async function importSigningKey(pem: string): Promise<CryptoKey> {
  return importPKCS8(pem, accessTokenAlgorithm);
}

export async function signAccessToken(key: CryptoKey, userId: string, ttlSeconds: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: accessTokenAlgorithm })
    .setSubject(userId)
    .setIssuer(accessTokenIssuer)
    .setAudience(accessTokenAudience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/** 256 random bits, URL-safe. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
