import { sql, type Kysely } from 'kysely';
import { httpError } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';

/**
 * A per-account sign-in budget in fixed windows, kept in PostgreSQL (Redis
 * may lose its data; a brute-force budget must not reset with it).
 *
 * An attempt is reserved before the password is checked, in one atomic
 * upsert, so parallel guesses cannot all slip past a budget that was read
 * before any of them was counted. A successful sign-in clears the account's
 * counter; a failed one leaves its reservation counted.
 */
export function createLoginLimiter(deps: { db: Kysely<MembershipDatabase>; windowSeconds: number; maxAttempts: number }) {
  const { db, windowSeconds, maxAttempts } = deps;
  return {
    /** Counts one attempt for `key`; throws 429 with Retry-After when the budget is already spent. */
    async reserve(key: string): Promise<void> {
      const { rows } = await sql<{ attempts: number; retry_after: number }>`
        insert into login_failures as counter (key, window_start, failures) values (${key}, now(), 1)
        on conflict (key) do update set
          failures = case when counter.window_start > now() - make_interval(secs => ${windowSeconds}) then counter.failures + 1 else 1 end,
          window_start = case when counter.window_start > now() - make_interval(secs => ${windowSeconds}) then counter.window_start else now() end
        returning failures as attempts,
          ceil(extract(epoch from window_start + make_interval(secs => ${windowSeconds}) - now()))::int as retry_after
      `.execute(db);
      const row = rows[0]!;
      if (row.attempts > maxAttempts) {
        throw httpError('too_many_requests', 'Too many failed sign-in attempts for this account; try again later.', {
          headers: { 'retry-after': String(Math.max(1, row.retry_after)) },
        });
      }
    },

    async clear(key: string): Promise<void> {
      await db.deleteFrom('login_failures').where('key', '=', key).execute();
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
