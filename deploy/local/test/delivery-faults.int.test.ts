import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, flushRedisPrefix, testDatabaseUrl } from '@hexa/testing';
import { startPlatform, type Platform } from './platform.js';

// The real servers, workers and outbox relay under the supervisor, on a database of their own.
let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ serverUrl: testDatabaseUrl, port: 32_080 });
}, 150_000);
afterAll(async () => {
  await platform?.stop();
}, 60_000);

const workspaceCount = 50;

describe('when 50 workspaces are created while Redis is flushed twice and the membership worker is killed', () => {
  it('gives each exactly one Admin, applies each job once, leaves no dead job, and empties the membership outbox', async () => {
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

    // Every membership job is eventually taken by the (restarted) worker and its outbox row removed.
    await eventually(async () => {
      const [row] = await platform.query<{ count: string }>(`select count(*) from workspaces.outbox where queue = 'membership'`);
      return row!.count === '0' ? true : undefined;
    }, 90_000, 500);

    const admins = await platform.query<{ workspace_slug: string; admins: string }>(
      `select workspace_slug, count(*) filter (where role = 'ADMIN') as admins from membership.workspace_memberships group by workspace_slug`,
    );
    expect(admins).toHaveLength(workspaceCount);
    expect(admins.every((row) => row.admins === '1')).toBe(true);
    // The inbox holds each delivered job once: no job had its effect twice.
    const [inbox] = await platform.query<{ jobs: string; distinct_jobs: string }>(
      `select count(*) as jobs, count(distinct job_id) as distinct_jobs from membership.inbox where queue = 'membership' and job_name = 'workspace.created'`,
    );
    expect(Number(inbox!.jobs)).toBe(Number(inbox!.distinct_jobs));
    expect(Number(inbox!.jobs)).toBeLessThanOrEqual(workspaceCount);
    const [dead] = await platform.query<{ count: string }>(`select count(*) from workspaces.outbox where dead_at is not null`);
    expect(dead!.count).toBe('0');
    // The databases queue has no consumer until the databases service lands: its jobs are all delivered and waiting.
    const undelivered = await platform.query(`select job_id from workspaces.outbox where queue = 'databases' and published_at is null`);
    expect(undelivered).toEqual([]);
    expect(platform.output()).toMatch(/membership-worker\s*\] services\/membership\/dist\/worker\.mjs restarted/);
  }, 180_000);
});
