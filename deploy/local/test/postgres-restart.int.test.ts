import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPlatform, type Platform } from './platform.js';

// A cluster of its own (scripts/lib/ensure.sh ensure_faults_cluster): restarting it disturbs no other test.
const serverUrl = process.env.TEST_FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5434/postgres';
const cluster = (process.env.TEST_FAULTS_CLUSTER ?? '15 hexa_faults').split(' ');

function pgctl(action: 'stop' | 'start'): void {
  const result = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...cluster, action, ...(action === 'stop' ? ['-m', 'fast'] : [])], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`pg_ctlcluster ${action}: ${result.stderr} (npm test creates the cluster)`);
}

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ serverUrl, port: 29_080 });
}, 150_000);
afterAll(async () => {
  await platform?.stop();
}, 60_000);

interface Answer { at: number; path: string; status: number; code?: string; retryAfter: string | null }

describe('when PostgreSQL restarts during a read load', () => {
  it('answers only 200 or 503 problem+json with Retry-After, and every process serves again within seconds without a restart', async () => {
    const token = await platform.login();
    const slugs: string[] = [];
    for (const name of ['Restart One', 'Restart Two', 'Restart Three']) {
      const created = await fetch(`${platform.url}/api/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
      expect(created.status).toBe(201);
      slugs.push(((await created.json()) as { slug: string }).slug);
    }
    const before = platform.processes();
    const paths = [...slugs.map((slug) => `/api/workspaces/${slug}`), '/api/workspaces', '/api/me'];

    const answers: Answer[] = [];
    let running = true;
    const loop = async (offset: number) => {
      for (let index = offset; running; index += 1) {
        const path = paths[index % paths.length]!;
        try {
          const response = await fetch(`${platform.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
          const body = (await response.json()) as { code?: string };
          answers.push({ at: Date.now(), path, status: response.status, ...(body.code ? { code: body.code } : {}), retryAfter: response.headers.get('retry-after') });
        } catch (error) {
          answers.push({ at: Date.now(), path, status: 0, code: String(error), retryAfter: null });
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, offset) => loop(offset));

    await sleep(2000);
    pgctl('stop');
    await sleep(3000);
    pgctl('start');
    const backAt = Date.now();
    await sleep(12_000);
    running = false;
    await Promise.all(loops);

    const statuses = new Set(answers.map((answer) => answer.status));
    expect([...statuses].sort()).toEqual([200, 503]);
    for (const answer of answers.filter((item) => item.status === 503)) {
      expect(answer.code).toBe('service_unavailable');
      expect(answer.retryAfter).toMatch(/^\d+$/);
    }
    // Serving again within seconds of PostgreSQL's return: the last 5 s of the run are all 200.
    const lastFailure = Math.max(...answers.filter((answer) => answer.status !== 200).map((answer) => answer.at));
    expect(lastFailure - backAt).toBeLessThan(7000);
    expect(answers.filter((answer) => answer.at > backAt + 7000).every((answer) => answer.status === 200)).toBe(true);
    // Nobody was restarted: the same processes served before and after.
    expect(platform.processes()).toEqual(before);
    expect(platform.output()).not.toMatch(/restarted/);
  }, 120_000);
});
