import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, flushRedisPrefix, testDatabaseUrl, testRedisUrl, workspaceClusterObjects } from '@hexa/testing';
import { Queue } from 'bullmq';
import { queueNames, serviceNames, serviceRegistry } from '@hexa/contract';
import { startPlatform, type Platform } from './platform.js';

// The real servers, workers and outbox relay under the supervisor, on a database of their own.
let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ serverUrl: testDatabaseUrl, port: 30_080 });
}, 150_000);
afterAll(async () => {
  await platform?.stop();
}, 120_000);

const workspaceCount = 50;
// Every service with a schema has an outbox (its relay runs in its worker).
const outboxes = serviceNames.filter((service) => serviceRegistry[service].database);

/** The rows still in the outboxes, each with its job's state in BullMQ. */
async function leftovers(platform: Platform) {
  const found = [];
  for (const schema of outboxes) {
    const rows = await platform.query<{ queue: string; job_name: string; job_id: string; attempts: number; last_error: string | null; published_at: Date | null; dead_at: Date | null }>(
      `select queue, job_name, job_id, attempts, last_error, published_at, dead_at from ${schema}.outbox order by id`,
    );
    for (const row of rows) {
      const queue = new Queue(row.queue, { connection: { url: testRedisUrl }, prefix: platform.prefix });
      const job = await queue.getJob(row.job_id);
      found.push({
        outbox: schema,
        ...row,
        jobState: await queue.getJobState(row.job_id),
        jobAttemptsMade: job?.attemptsMade,
        jobFailedReason: job?.failedReason,
        jobDelay: job?.delay,
      });
      await queue.close();
    }
  }
  // The platform logs warnings and errors only: its last complaints are what a stuck job ran into.
  if (found.length > 0) found.push({ recentWarnings: platform.output().split('\n').filter((line) => /fail|error/i.test(line)).slice(-20) } as never);
  return found;
}

describe('when 50 workspaces are created while Redis is flushed twice and the membership worker is killed', () => {
  it('gives each exactly one Admin and a ready database, applies each job once, and empties every outbox (so no job is dead)', async () => {
    const token = await platform.login();
    const create = async (index: number) => {
      const response = await fetch(`${platform.url}/api/workspaces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `fault-run-${index}` },
        body: JSON.stringify({ name: `Fault Run ${index}` }),
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { slug: string }).slug;
    };

    const slugs: string[] = [];
    for (let batch = 0; batch < workspaceCount / 10; batch += 1) {
      slugs.push(...(await Promise.all(Array.from({ length: 10 }, (_, index) => create(batch * 10 + index)))));
      if (batch === 1 || batch === 3) await flushRedisPrefix(platform.prefix);
      if (batch === 2) process.kill(platform.processes().get('services/membership/dist/worker.mjs')!, 'SIGKILL');
      await sleep(300);
    }
    expect(new Set(slugs).size).toBe(workspaceCount);

    // Every job of every outbox eventually ends in a (restarted) consumer, and its row is removed.
    const pending = async () =>
      Object.fromEntries(
        await Promise.all(outboxes.map(async (schema) => [schema, Number((await platform.query<{ count: string }>(`select count(*) from ${schema}.outbox`))[0]!.count)] as const)),
      );
    // Eleven processes and fifty database provisionings share the machine's cores with the rest of the
    // suite: the redeliveries after two flushes take minutes there, seconds on a quiet machine.
    try {
      await eventually(async () => (Object.values(await pending()).every((count) => count === 0) ? true : undefined), 240_000, 500);
    } catch {
      // Which rows are left, and where their jobs stand in Redis: what a failure needs to be understood.
      expect(await leftovers(platform)).toEqual([]);
    }

    // Exactly one membership per workspace, the creator's, as Admin.
    const memberships = await platform.query<{ workspace_slug: string; members: string; admins: string }>(
      `select workspace_slug, count(*) as members, count(*) filter (where role = 'ADMIN') as admins from membership.workspace_memberships group by workspace_slug`,
    );
    expect(memberships).toHaveLength(workspaceCount);
    expect(memberships.filter((row) => row.members !== '1' || row.admins !== '1')).toEqual([]);
    // Each consumer applied each workspace's workspace.created once: one inbox entry per workspace, no more, no fewer.
    for (const consumer of ['membership', 'databases']) {
      const applied = await platform.query<{ job_name: string; count: string }>(`select job_name, count(*) from ${consumer}.inbox where job_name = 'workspace.created' group by job_name`);
      expect({ consumer, applied }).toEqual({ consumer, applied: [{ job_name: 'workspace.created', count: String(workspaceCount) }] });
    }
    // The Admin grant's audit entry, and the creation's, each recorded once per workspace.
    const audit = await platform.query<{ action: string; workspaces: string; entries: string }>(
      `select action, count(distinct workspace_id) as workspaces, count(*) as entries from workspaces.audit_events
        where action in ('workspace.created', 'member.added') group by action order by action`,
    );
    expect(audit).toEqual([
      { action: 'member.added', workspaces: String(workspaceCount), entries: String(workspaceCount) },
      { action: 'workspace.created', workspaces: String(workspaceCount), entries: String(workspaceCount) },
    ]);
    // Every workspace got its database, once, and knows it.
    const databases = await platform.query<{ status: string; count: string }>(`select status, count(*) from databases.workspace_databases group by status`);
    expect(databases).toEqual([{ status: 'ready', count: String(workspaceCount) }]);
    expect((await workspaceClusterObjects(`${platform.rolePrefix}ws_`)).databases).toHaveLength(workspaceCount);
    const statuses = await platform.query<{ status: string; count: string }>(`select status, count(*) from workspaces.workspaces group by status`);
    expect(statuses).toEqual([{ status: 'ready', count: String(workspaceCount) }]);
    // No job failed for good in any queue (an empty outbox only says every job ended).
    for (const name of queueNames) {
      const queue = new Queue(name, { connection: { url: testRedisUrl }, prefix: platform.prefix });
      try {
        expect({ queue: name, failed: await queue.getFailedCount() }).toEqual({ queue: name, failed: 0 });
      } finally {
        await queue.close();
      }
    }
    expect(platform.output()).toMatch(/membership-worker\s*\] services\/membership\/dist\/worker\.mjs restarted/);
  }, 330_000);
});
