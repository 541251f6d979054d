import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';

/** The first half of the advisory lock's key: this service's work on one workspace database ("hxdb"). */
const lockNamespace = 0x68786462;
/** How long a job waits for another job on the same workspace database before it is retried later. */
const lockWaitMs = 30_000;
const lockPollMs = 50;

/**
 * Runs `work` while holding a lock on one workspace's database, so that
 * provisioning, a password rotation, an archive or a restore of the same
 * workspace never interleave on the cluster, whichever worker replica runs
 * them. A session-level advisory lock on the platform database: it goes with
 * its session when a worker dies.
 *
 * @example
 * await withWorkspaceLock(db, workspaceId, () => cluster.setPassword(role, password));
 */
export async function withWorkspaceLock<DB, T>(db: Kysely<DB>, workspaceId: string, work: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    const deadline = Date.now() + lockWaitMs;
    for (;;) {
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${lockNamespace}, hashtext(${workspaceId})) as locked`.execute(connection);
      if (rows[0]?.locked) break;
      if (Date.now() > deadline) throw new Error('Another operation on this workspace database is still running; retrying later');
      await sleep(lockPollMs);
    }
    try {
      return await work();
    } finally {
      await sql`select pg_advisory_unlock(${lockNamespace}, hashtext(${workspaceId}))`.execute(connection).catch(() => undefined);
    }
  });
}
