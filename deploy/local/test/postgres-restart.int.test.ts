import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceNames, serviceRegistry } from '@hexa/contract';
import { eventually } from '@hexa/testing';
import { startPlatform, type Platform } from './platform.js';

// A cluster of its own (scripts/lib/ensure.sh ensure_faults_cluster): restarting it disturbs no other test.
const serverUrl = process.env.TEST_FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5434/postgres';
const cluster = (process.env.TEST_FAULTS_CLUSTER ?? '15 hexa_faults').split(' ');

function pgctl(action: 'stop' | 'start'): void {
  const result = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...cluster, action, ...(action === 'stop' ? ['-m', 'fast'] : [])], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`pg_ctlcluster ${action}: ${result.stderr} (npm test creates the cluster)`);
}

// A Redis of the platform's own, on a port next to its services (29080–29089), so that it can go away and
// come back without touching the shared one on 6379. Its data is saved on the way down and loaded on the
// way up: an outage, not a flush (delivery-faults.int.test.ts covers losing the data).
const redisPort = 29_099;
const redisDir = mkdtempSync(join(tmpdir(), 'hexa-faults-redis-'));
let redis: ChildProcess | undefined;

function redisCli(...command: string[]): string {
  return spawnSync('redis-cli', ['-p', String(redisPort), ...command], { encoding: 'utf8' }).stdout.trim();
}

async function startRedis(): Promise<void> {
  const started = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redis = started;
  // The Redis answering must be this one: another left on the port (a run killed midway) would answer the
  // pings while this one exits, and the test would stop a Redis it does not own.
  await eventually(async () => (/process_id:(\d+)/.exec(redisCli('info', 'server'))?.[1] === String(started.pid) ? true : undefined), 10_000, 100).catch(() => {
    throw new Error(`the Redis started on port ${redisPort} is not the one answering there (exit code ${started.exitCode}): is another one left on that port?`);
  });
}

async function stopRedis(): Promise<void> {
  const exited = new Promise((resolve) => redis!.once('exit', resolve));
  const answer = redisCli('shutdown', 'save');
  await Promise.race([exited, sleep(15_000, undefined, { ref: false }).then(() => Promise.reject(new Error(`Redis did not shut down: ${answer}`)))]);
}

let platform: Platform;
beforeAll(async () => {
  await startRedis();
  platform = await startPlatform({ serverUrl, port: 29_080, env: { REDIS_URL: `redis://127.0.0.1:${redisPort}` } });
}, 150_000);
afterAll(async () => {
  await platform?.stop();
  redis?.kill('SIGKILL');
  rmSync(redisDir, { recursive: true, force: true });
}, 60_000);

interface Answer { at: number; path: string; status: number; code?: string; retryAfter: string | null; contentType: string | null }

/** Sends `paths` round-robin from 8 clients until stopped; records every answer. */
function readLoad(token: string, paths: string[]): { answers: Answer[]; stop: () => Promise<void> } {
  const answers: Answer[] = [];
  let running = true;
  const loop = async (offset: number) => {
    for (let index = offset; running; index += 1) {
      const path = paths[index % paths.length]!;
      try {
        const response = await fetch(`${platform.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
        const body = (await response.json()) as { code?: string };
        answers.push({ at: Date.now(), path, status: response.status, ...(body.code ? { code: body.code } : {}), retryAfter: response.headers.get('retry-after'), contentType: response.headers.get('content-type') });
      } catch (error) {
        answers.push({ at: Date.now(), path, status: 0, code: String(error), retryAfter: null, contentType: null });
      }
    }
  };
  const loops = Array.from({ length: 8 }, (_, offset) => loop(offset));
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Every refusal is 503 problem+json `service_unavailable` with Retry-After. */
function expectOnlyServiceUnavailable(answers: Answer[]): void {
  for (const answer of answers.filter((item) => item.status === 503)) {
    expect(answer).toMatchObject({ code: 'service_unavailable', retryAfter: expect.stringMatching(/^\d+$/), contentType: expect.stringMatching(/^application\/problem\+json/) });
  }
}

/** What a workspace's services answer: workspaces, databases, runner and files. */
const workspacePaths = (slug: string) => [
  `/api/workspaces/${slug}`,
  `/api/workspaces/${slug}/database`,
  `/api/workspaces/${slug}/runs`,
  `/api/workspaces/${slug}/files`,
  `/api/workspaces/${slug}/connections`,
];

async function createWorkspace(token: string, name: string): Promise<Response> {
  return fetch(`${platform.url}/api/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }), signal: AbortSignal.timeout(10_000) });
}

/** Requests the platform left without an answer for 10 s: none may be (each test asserts it), and none may hang a test. */
const unanswered: string[] = [];

/** Waits until the workspace is `ready` (its database provisioned through the databases worker) and the creator is its Admin. */
async function delivered(token: string, slug: string): Promise<void> {
  await eventually(async () => {
    const response = await fetch(`${platform.url}/api/workspaces/${slug}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) }).catch((error: unknown) => {
      unanswered.push(`GET /api/workspaces/${slug}: ${String(error)}`);
      throw error;
    });
    return response.status === 200 && ((await response.json()) as { status: string }).status === 'ready' ? true : undefined;
  }, 60_000, 500);
  const admins = await platform.query<{ role: string }>(`select role from membership.workspace_memberships where workspace_slug = $1`, [slug]);
  expect(admins).toEqual([{ role: 'ADMIN' }]);
}

/** Every service's outbox (each service with a schema has one) drains: its relay runs again. */
async function outboxesDrain(): Promise<void> {
  const outboxes = serviceNames.filter((service) => serviceRegistry[service].database);
  await eventually(async () => {
    for (const schema of outboxes) {
      const [row] = await platform.query<{ count: string }>(`select count(*) from ${schema}.outbox`);
      if (row!.count !== '0') return undefined;
    }
    return true;
  }, 60_000, 500);
}

/**
 * Runs a test's steps, each named: a failure says which step it came at, how long each took, and the
 * platform's last complaints (it logs warnings and errors only), instead of only the test's time running out.
 */
async function inSteps(run: (step: (name: string) => void) => Promise<void>): Promise<void> {
  const started = Date.now();
  const steps: string[] = [];
  try {
    await run((name) => steps.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${name}`));
    expect(unanswered).toEqual([]);
  } catch (error) {
    const complaints = platform.output().split('\n').filter((line) => /fail|error|warn/i.test(line)).slice(-30);
    throw new Error(`${String(error)}\n\nsteps:\n${steps.join('\n')}\n\nthe platform's last complaints:\n${complaints.join('\n')}`, { cause: error });
  }
}

/** Polls a service's own readiness until stopped; records each answer's status and its checks. */
function readinessWatch(service: string): { seen: { status: number; checks: Record<string, string> }[]; stop: () => Promise<void> } {
  const seen: { status: number; checks: Record<string, string> }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const response = await fetch(`http://127.0.0.1:${platform.ports[service]}/readyz`, { signal: AbortSignal.timeout(5_000) });
        seen.push({ status: response.status, checks: ((await response.json()) as { checks: Record<string, string> }).checks });
      } catch {
        // a timeout under load: no answer to record
      }
      await sleep(200);
    }
  })();
  return {
    seen,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('when PostgreSQL restarts during a read load', () => {
  it('answers only 200 or 503 problem+json with Retry-After, reports it in readiness, and every process and worker serves again within seconds without a restart', () =>
    inSteps(async (step) => {
      step('sign in and create three workspaces');
      const token = await platform.login();
      const slugs: string[] = [];
      for (const name of ['Restart One', 'Restart Two', 'Restart Three']) {
        const created = await createWorkspace(token, name);
        expect(created.status).toBe(201);
        slugs.push(((await created.json()) as { slug: string }).slug);
      }
      step('wait for them');
      // Provisioned first, so that the databases, runner and files routes answer 200 before the outage.
      for (const slug of slugs) await delivered(token, slug);
      const before = platform.processes();
      const load = readLoad(token, [...slugs.flatMap(workspacePaths), '/api/workspaces', '/api/me']);
      const readiness = readinessWatch('workspaces');

      await sleep(2000);
      step('stop PostgreSQL');
      pgctl('stop');
      await sleep(3000);
      step('start PostgreSQL');
      pgctl('start');
      const backAt = Date.now();
      await sleep(12_000);
      await load.stop();
      await readiness.stop();
      const { answers } = load;

      const statuses = new Set(answers.map((answer) => answer.status));
      expect([...statuses].sort()).toEqual([200, 503]);
      expectOnlyServiceUnavailable(answers);
      // The databases, runner and files services were asked during the outage too, and answered.
      for (const route of ['/database', '/runs', '/files', '/connections']) {
        expect(answers.filter((answer) => answer.path.endsWith(route) && answer.status === 200).length).toBeGreaterThan(0);
      }
      // Serving again within seconds of PostgreSQL's return: the last 5 s of the run are all 200.
      const lastFailure = Math.max(...answers.filter((answer) => answer.status !== 200).map((answer) => answer.at));
      expect(lastFailure - backAt).toBeLessThan(7000);
      expect(answers.filter((answer) => answer.at > backAt + 7000).every((answer) => answer.status === 200)).toBe(true);
      // Readiness said so while it lasted, and is back.
      expect(readiness.seen).toContainEqual({ status: 503, checks: { postgres: 'down', redis: 'up' } });
      expect(readiness.seen.at(-1)).toEqual({ status: 200, checks: { postgres: 'up', redis: 'up' } });

      // The workers and relays work again: a workspace created now is provisioned and its creator made Admin.
      step('create after the restart and wait for it');
      const created = await createWorkspace(token, 'After The Restart');
      expect(created.status).toBe(201);
      await delivered(token, ((await created.json()) as { slug: string }).slug);
      step('wait for every outbox to drain');
      await outboxesDrain();
      // Nobody was restarted: the same processes served before and after.
      expect(platform.processes()).toEqual(before);
      expect(platform.output()).not.toMatch(/restarted/);
    }), 240_000);
});

describe('when Redis goes away and comes back', () => {
  it('answers only 200, 201 or 503 meanwhile, and the services and workers use it again without a restart', () =>
    inSteps(async (step) => {
      step('sign in');
      const token = await platform.login();
      step('create a workspace and wait for it');
      const created = await createWorkspace(token, 'Before Redis Left');
      expect(created.status).toBe(201);
      const { slug } = (await created.json()) as { slug: string };
      await delivered(token, slug);
      const before = platform.processes();
      const load = readLoad(token, [...workspacePaths(slug), '/api/workspaces', '/api/me']);
      const readiness = readinessWatch('workspaces');

      await sleep(2000);
      step('stop Redis');
      await stopRedis();
      // Creates while it is away: committed with their jobs in the outbox (201), or refused with 503, never 500.
      step('create while Redis is away');
      const whileAway: number[] = [];
      for (let index = 0; index < 3; index += 1) {
        whileAway.push((await createWorkspace(token, `While Redis Is Away ${index}`)).status);
        await sleep(500);
      }
      await sleep(3000);
      step('start Redis');
      await startRedis();
      await sleep(8000);
      step('stop the load');
      await load.stop();
      await readiness.stop();

      expect(whileAway.filter((status) => status !== 201 && status !== 503)).toEqual([]);
      expect([...new Set(load.answers.map((answer) => answer.status))].filter((status) => status !== 200 && status !== 503)).toEqual([]);
      expectOnlyServiceUnavailable(load.answers);
      expect(readiness.seen).toContainEqual({ status: 503, checks: { postgres: 'up', redis: 'down' } });
      expect(readiness.seen.at(-1)).toEqual({ status: 200, checks: { postgres: 'up', redis: 'up' } });

      // A create made after Redis returned is delivered: provisioned by the databases worker, its Admin granted.
      step('create after Redis returned and wait for it');
      const after = await createWorkspace(token, 'After Redis Returned');
      expect(after.status).toBe(201);
      await delivered(token, ((await after.json()) as { slug: string }).slug);
      step('wait for every outbox to drain');
      await outboxesDrain();
      expect(platform.processes()).toEqual(before);
      expect(platform.output()).not.toMatch(/restarted/);
    }), 240_000);
});
