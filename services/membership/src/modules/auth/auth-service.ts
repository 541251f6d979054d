import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CryptoKey } from 'jose';
import type { Schemas } from '@hexa/contract';
import { httpError } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';
import { verifyPassword } from '../users/passwords.js';
import { findUserByEmail, findUserById, toUser } from '../users/users-repository.js';
import type { createLoginLimiter } from './login-limiter.js';
import { hashToken, newRefreshToken, signAccessToken } from './tokens-fns.js';

/** A client address may fail this many times more than one e-mail: offices share addresses. */
const addressBudgetFactor = 5;

export interface AuthServiceDeps {
  db: Kysely<MembershipDatabase>;
  signingKey: CryptoKey;
  limiter: ReturnType<typeof createLoginLimiter>;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  maxLoginFailures: number;
}

export function createAuthService(deps: AuthServiceDeps) {
  const { db } = deps;

  async function issueSession(userId: string, familyId: string): Promise<Schemas['Session']> {
    const user = await findUserById(db, userId);
    if (!user) throw httpError('invalid_token', 'The user of this token no longer exists.');
    const refreshToken = newRefreshToken();
    await db
      .insertInto('refresh_tokens')
      .values({
        family_id: familyId,
        user_id: userId,
        token_hash: hashToken(refreshToken),
        expires_at: new Date(Date.now() + deps.refreshTokenTtlDays * 86_400_000),
        used_at: null,
        revoked_at: null,
      })
      .execute();
    return {
      accessToken: await signAccessToken(deps.signingKey, userId, deps.accessTokenTtlSeconds),
      tokenType: 'Bearer',
      expiresIn: deps.accessTokenTtlSeconds,
      refreshToken,
      user: toUser(user),
    };
  }

  async function revokeFamily(familyId: string): Promise<void> {
    await db.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
  }

  return {
    async login(input: { email: string; password: string; clientAddress: string }): Promise<Schemas['Session']> {
      const emailKey = `email:${input.email.toLowerCase()}`;
      const addressKey = `address:${input.clientAddress}`;
      await deps.limiter.assertAllowed([
        { key: emailKey, max: deps.maxLoginFailures },
        { key: addressKey, max: deps.maxLoginFailures * addressBudgetFactor },
      ]);
      const user = await findUserByEmail(db, input.email);
      if (!(await verifyPassword(user?.password_hash, input.password)) || !user) {
        await deps.limiter.recordFailure([emailKey, addressKey]);
        throw httpError('invalid_credentials');
      }
      await deps.limiter.clear(emailKey);
      return issueSession(user.id, randomUUID());
    },

    /** Rotates a refresh token: each works once; a second use revokes its whole family. */
    async refresh(token: string | undefined): Promise<Schemas['Session']> {
      if (!token) throw httpError('unauthenticated', 'No refresh token: send it in the body or the cookie.');
      const row = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
      if (!row) throw httpError('invalid_token', 'Unknown refresh token.');
      if (row.revoked_at) throw httpError('invalid_token', 'This session was ended.');
      if (row.expires_at.getTime() <= Date.now()) throw httpError('token_expired', 'The refresh token has expired; sign in again.');
      // Marking it used is the race's only winner: two concurrent refreshes cannot both succeed.
      const claimed = await db
        .updateTable('refresh_tokens')
        .set({ used_at: new Date() })
        .where('id', '=', row.id)
        .where('used_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!claimed) {
        await revokeFamily(row.family_id);
        throw httpError('invalid_token', 'This refresh token was already used; every session of its family is now ended.');
      }
      return issueSession(row.user_id, row.family_id);
    },

    async logout(token: string | undefined): Promise<void> {
      if (!token) return;
      const row = await db.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', hashToken(token)).executeTakeFirst();
      if (row) await revokeFamily(row.family_id);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
