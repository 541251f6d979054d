import { sql, type Kysely } from 'kysely';
import { httpError } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';

/**
 * Counts failed logins per key in fixed windows, in PostgreSQL (Redis may
 * lose its data; a brute-force budget must not reset with it).
 */
export function createLoginLimiter(deps: { db: Kysely<MembershipDatabase>; windowSeconds: number }) {
  const { db, windowSeconds } = deps;
  return {
    /** Throws 429 when any key has used up its budget in the current window. */
    async assertAllowed(budgets: { key: string; max: number }[]): Promise<void> {
      const rows = await db
        .selectFrom('login_failures')
        .select(['key', 'failures', 'window_start'])
        .where('key', 'in', budgets.map((budget) => budget.key))
        .where('window_start', '>', sql<Date>`now() - make_interval(secs => ${windowSeconds})`)
        .execute();
      for (const row of rows) {
        const budget = budgets.find((item) => item.key === row.key);
        if (budget && row.failures >= budget.max) {
          const retryAfter = Math.max(1, Math.ceil((row.window_start.getTime() + windowSeconds * 1000 - Date.now()) / 1000));
          throw httpError('too_many_requests', 'Too many failed sign-in attempts; try again later.', { headers: { 'retry-after': String(retryAfter) } });
        }
      }
    },

    async recordFailure(keys: string[]): Promise<void> {
      for (const key of keys) {
        await sql`
          insert into login_failures (key, window_start, failures) values (${key}, now(), 1)
          on conflict (key) do update set
            failures = case when login_failures.window_start > now() - make_interval(secs => ${windowSeconds}) then login_failures.failures + 1 else 1 end,
            window_start = case when login_failures.window_start > now() - make_interval(secs => ${windowSeconds}) then login_failures.window_start else now() end
        `.execute(db);
      }
    },

    async clear(key: string): Promise<void> {
      await db.deleteFrom('login_failures').where('key', '=', key).execute();
    },
  };
}
