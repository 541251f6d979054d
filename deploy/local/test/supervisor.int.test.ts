import { eventually, testDatabaseUrl } from '@hexa/testing';
import { bundles } from '../../../scripts/build.js';
import { startPlatform, type Platform } from './platform.js';

// The main cluster, in a database of its own: nothing here restarts PostgreSQL.
const serverUrl = testDatabaseUrl;
let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({ serverUrl, port: 31_080 });
}, 150_000);
afterAll(async () => {
  await platform?.stop();
}, 60_000);

async function ready(): Promise<boolean> {
  try {
    return (await fetch(`${platform.url}/api/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

/** Waits until the process running `file` is a different one than `before` and the platform is ready again. */
async function restarted(file: string, before: number): Promise<number> {
  const after = await eventually(async () => {
    const pid = platform.processes().get(file);
    return pid !== undefined && pid !== before ? pid : undefined;
  }, 30_000);
  await eventually(async () => ((await ready()) ? true : undefined), 30_000, 250);
  return after;
}

describe('when npm start runs the platform', () => {
  it('runs every server and worker of the service registry', () => {
    expect([...platform.processes().keys()].sort()).toEqual(bundles().map((bundle) => bundle.outfile).sort());
    expect(platform.processes().has('services/membership/dist/worker.mjs')).toBe(true);
  });
});

describe('when a worker is killed with SIGKILL', () => {
  it('logs it, starts it again, and only it', async () => {
    const before = platform.processes();
    const worker = 'services/membership/dist/worker.mjs';
    process.kill(before.get(worker)!, 'SIGKILL');
    await restarted(worker, before.get(worker)!);
    expect(platform.output()).toMatch(/membership-worker\s*\] services\/membership\/dist\/worker\.mjs exited with code SIGKILL/);
    expect(platform.output()).toMatch(/membership-worker\s*\] services\/membership\/dist\/worker\.mjs restarted/);
    for (const [file, pid] of before) if (file !== worker) expect(platform.processes().get(file)).toBe(pid);
  }, 60_000);
});

describe('when a server dies', () => {
  it('starts it again and the platform serves as before', async () => {
    const before = platform.processes();
    const server = 'services/workspaces/dist/server.mjs';
    process.kill(before.get(server)!, 'SIGKILL');
    await restarted(server, before.get(server)!);
    const token = await platform.login();
    const created = await fetch(`${platform.url}/api/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'After The Crash' }),
    });
    expect(created.status).toBe(201);
  }, 60_000);
});

describe('when the supervisor gets SIGTERM', () => {
  it('closes every process gracefully and exits 0, leaving nothing running', async () => {
    const running = platform.processes();
    expect(running.size).toBe(bundles().length);
    platform.supervisor.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => platform.supervisor.once('exit', resolve));
    expect(code).toBe(0);
    expect(platform.processes().size).toBe(0);
    // Each closed on the signal rather than being killed.
    expect(platform.output()).not.toMatch(/exited with code SIG(?!KILL)/);
    expect(platform.output().match(/exited with code 0/g)).toHaveLength(bundles().length);
  }, 60_000);
});
