import { errors as joseErrors, importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { accessTokenClaims, httpError } from '@hexa/kit';

const { issuer, audience, algorithm } = accessTokenClaims;

/** Verifies the access tokens that membership signs; returns the user id. */
export async function createAccessTokenVerifier(publicKeyPem: string) {
  const key: CryptoKey = await importSPKI(publicKeyPem, algorithm);
  return async function verify(authorization: string | undefined): Promise<string> {
    if (!authorization) throw httpError('unauthenticated', 'Send an access token: `Authorization: Bearer <token>`.');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw httpError('invalid_token', 'The Authorization header must be `Bearer <token>`.');
    try {
      const { payload } = await jwtVerify(match[1]!, key, { issuer, audience, algorithms: [algorithm] });
      if (typeof payload.sub !== 'string') throw httpError('invalid_token');
      return payload.sub;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw httpError('token_expired', 'The access token has expired; refresh it.');
      if (error instanceof joseErrors.JOSEError) throw httpError('invalid_token', 'The access token is not valid.');
      throw error;
    }
  };
}
