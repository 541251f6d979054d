import { sql, type Kysely } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { httpError } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';
import type { PasswordVerifier } from '../users/passwords.js';
import { findUserByEmail, findUserById, toUser } from '../users/users-repository.js';
import type { LoginLimiter } from './login-limiter.js';
import { hashToken, newRefreshToken } from './tokens-fns.js';

export interface AuthServiceDeps {
  db: Kysely<MembershipDatabase>;
  /** Signs an access token for a user (membership's @fastify/jwt signer). */
  signAccessToken: (userId: string) => string;
  verifyPassword: PasswordVerifier;
  limiter: LoginLimiter;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  refreshReuseGraceSeconds: number;
}

/** A session as the service issues it; where the refresh token travels is the HTTP layer's choice. */
export interface IssuedSession {
  session: Omit<Schemas['Session'], 'refreshToken'>;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

type UserRow = NonNullable<Awaited<ReturnType<typeof findUserById>>>;

/** The budget is per account, named by the e-mail as typed (made-up ones included: that reveals nothing). */
const accountKey = (email: string) => `email:${email.toLowerCase()}`;

export function createAuthService(deps: AuthServiceDeps) {
  const { db } = deps;

  async function issueSession(user: UserRow, family: { id: string; expiresAt: Date }): Promise<IssuedSession> {
    const refreshToken = newRefreshToken();
    // Every token of a family expires with the family: rotation never extends a session.
    await db
      .insertInto('refresh_tokens')
      .values({ family_id: family.id, user_id: user.id, token_hash: hashToken(refreshToken), expires_at: family.expiresAt, used_at: null })
      .execute();
    return {
      session: {
        accessToken: deps.signAccessToken(user.id),
        tokenType: 'Bearer',
        expiresIn: deps.accessTokenTtlSeconds,
        refreshTokenExpiresAt: family.expiresAt.toISOString(),
        user: toUser(user),
      },
      refreshToken,
      refreshTokenExpiresAt: family.expiresAt,
    };
  }

  /** A new sign-in: a new refresh-token family with its absolute end, and its first tokens. */
  async function openSession(user: UserRow): Promise<IssuedSession> {
    const family = await db
      .insertInto('refresh_families')
      .values({ user_id: user.id, expires_at: sql`now() + make_interval(days => ${deps.refreshTokenTtlDays})`, revoked_at: null })
      .returning(['id', 'expires_at'])
      .executeTakeFirstOrThrow();
    return issueSession(user, { id: family.id, expiresAt: family.expires_at });
  }

  async function revokeFamily(familyId: string): Promise<void> {
    await db.updateTable('refresh_families').set({ revoked_at: sql`now()` }).where('id', '=', familyId).where('revoked_at', 'is', null).execute();
  }

  return {
    /**
     * Signs in. The account's attempt is reserved before the password is
     * checked, so parallel guesses spend the budget instead of racing it.
     */
    async login(input: { email: string; password: string }): Promise<IssuedSession> {
      const key = accountKey(input.email);
      await deps.limiter.reserve(key);
      const user = await findUserByEmail(db, input.email);
      if (!(await deps.verifyPassword(user?.password_hash, input.password)) || !user) throw httpError('invalid_credentials');
      await deps.limiter.clear(key);
      return openSession(user);
    },

    /** Signs in a user whose identity was proven another way (an account just created with an invitation token). */
    openSession,

    /**
     * Rotates a refresh token. Each works once; presented again within the
     * grace window (two tabs, a retried request) it gives another session of
     * the same family; presented later it is a stolen copy, and the whole
     * family is revoked.
     */
    async refresh(token: string | undefined): Promise<IssuedSession> {
      if (!token) throw httpError('unauthenticated', 'No refresh token: send it in the cookie or the body.');
      const row = await db
        .selectFrom('refresh_tokens as token')
        .innerJoin('refresh_families as family', 'family.id', 'token.family_id')
        .select([
          'token.id',
          'token.user_id as userId',
          'family.id as familyId',
          'family.expires_at as expiresAt',
          'family.revoked_at as revokedAt',
          sql<boolean>`family.expires_at <= now()`.as('expired'),
        ])
        .where('token.token_hash', '=', hashToken(token))
        .executeTakeFirst();
      if (!row) throw httpError('invalid_token', 'Unknown refresh token.');
      if (row.revokedAt) throw httpError('invalid_token', 'This session was ended.');
      if (row.expired) throw httpError('token_expired', 'The session has expired; sign in again.');

      // The first use wins this update; a concurrent or later use finds the token taken.
      const claimed = await db.updateTable('refresh_tokens').set({ used_at: sql`now()` }).where('id', '=', row.id).where('used_at', 'is', null).returning('id').executeTakeFirst();
      if (!claimed) {
        const { recent } = await db
          .selectFrom('refresh_tokens')
          .select(sql<boolean>`used_at > now() - make_interval(secs => ${deps.refreshReuseGraceSeconds})`.as('recent'))
          .where('id', '=', row.id)
          .executeTakeFirstOrThrow();
        if (!recent) {
          await revokeFamily(row.familyId);
          throw httpError('invalid_token', 'This refresh token was already used; every session of its family is now ended.');
        }
      }
      const user = await findUserById(db, row.userId);
      if (!user) throw httpError('invalid_token', 'The user of this token no longer exists.');
      return issueSession(user, { id: row.familyId, expiresAt: row.expiresAt });
    },

    async logout(token: string | undefined): Promise<void> {
      if (!token) return;
      const row = await db.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', hashToken(token)).executeTakeFirst();
      if (row) await revokeFamily(row.family_id);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
