import { sql, type Kysely, type Selectable } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { httpError, type UserCaller } from '@hexa/kit';
import type { MembershipDatabase, PersonalAccessTokensTable } from '../../database.js';
import { hashToken } from '../auth/tokens-fns.js';
import { newPersonalAccessToken } from './personal-access-tokens-fns.js';

/** Enough for every script a person runs; a bound so that a loop cannot fill the table. */
const maxLiveTokensPerUser = 100;

type TokenRow = Selectable<PersonalAccessTokensTable>;

function toPersonalAccessToken(row: TokenRow): Schemas['PersonalAccessToken'] {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

/**
 * Personal access tokens for REST clients: created by their owner, shown
 * once, stored as a SHA-256 hash, listed and revoked by their owner, resolved
 * by the gateway. A revocation is announced so gateways drop the token at once.
 */
export function createPersonalAccessTokensService(deps: { db: Kysely<MembershipDatabase>; announceAccessChanged: (userId: string) => Promise<void> }) {
  const { db } = deps;
  return {
    async list(caller: UserCaller): Promise<Schemas['PersonalAccessToken'][]> {
      const rows = await db.selectFrom('personal_access_tokens').selectAll().where('user_id', '=', caller.userId).orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map(toPersonalAccessToken);
    },

    async create(caller: UserCaller, input: { name: string; expiresInDays: number; scope: Schemas['TokenScope'] }): Promise<Schemas['CreatedPersonalAccessToken']> {
      const { live } = await db
        .selectFrom('personal_access_tokens')
        .select((eb) => eb.fn.countAll<string>().as('live'))
        .where('user_id', '=', caller.userId)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirstOrThrow();
      if (Number(live) >= maxLiveTokensPerUser) {
        throw httpError('conflict', `You already have ${maxLiveTokensPerUser} personal access tokens; revoke one first.`);
      }
      const token = newPersonalAccessToken();
      const row = await db
        .insertInto('personal_access_tokens')
        .values({
          user_id: caller.userId,
          name: input.name.trim(),
          token_hash: hashToken(token),
          scope: input.scope,
          expires_at: sql<Date>`now() + make_interval(days => ${input.expiresInDays})`,
          last_used_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { ...toPersonalAccessToken(row), lastUsedAt: null, token };
    },

    /** Only the owner revokes a token; someone else's looks like no token at all. */
    async revoke(caller: UserCaller, id: string): Promise<void> {
      const deleted = await db.deleteFrom('personal_access_tokens').where('id', '=', id).where('user_id', '=', caller.userId).returning('id').executeTakeFirst();
      if (!deleted) throw httpError('not_found', 'You have no personal access token with this id.');
      await deps.announceAccessChanged(caller.userId);
    },

    /**
     * The owner and scope of a token, by the hash of its secret; expired
     * tokens are answered too so that the gateway can say so. Marks the token
     * used (the gateway caches answers, so this is to within its cache's lifetime).
     */
    async resolve(tokenHash: string): Promise<Schemas['PersonalAccessTokenGrant']> {
      const row = await db
        .updateTable('personal_access_tokens')
        .set({ last_used_at: sql<Date>`case when expires_at > now() then now() else last_used_at end` })
        .where('token_hash', '=', tokenHash)
        .returning(['id', 'user_id', 'scope', 'expires_at'])
        .executeTakeFirst();
      if (!row) throw httpError('not_found', 'No such personal access token.');
      return { tokenId: row.id, userId: row.user_id, scope: row.scope, expiresAt: row.expires_at.toISOString() };
    },
  };
}

export type PersonalAccessTokensService = ReturnType<typeof createPersonalAccessTokensService>;
