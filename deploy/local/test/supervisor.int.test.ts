import { eventually, testDatabaseUrl } from '@hexa/testing';
import { bundles } from '../../../scripts/build.js';
import { ownerLogin, startPlatform, type Platform } from './platform.js';

// The main cluster, in a database of its own: nothing here restarts PostgreSQL.
const serverUrl = testDatabaseUrl;
let platform: Platform;

beforeAll(async () => {
  // The longest restart delay shortened from 30 s to 2 s, so that a run of crashes reaches it within the test.
  platform = await startPlatform({ serverUrl, port: 31_080, env: { HEXA_RESTART_MAX_DELAY_MS: '2000' } });
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

  it('says the owner password came from HEXA_OWNER_PASSWORD and never prints it', () => {
    expect(platform.output()).toContain(`Organization owner: ${ownerLogin.email} (password from HEXA_OWNER_PASSWORD)`);
    expect(platform.output()).not.toContain(ownerLogin.password);
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

describe('when one process crashes again and again', () => {
  it('restarts it every time, waiting no longer than the capped delay', async () => {
    const worker = 'services/files/dist/worker.mjs';
    const waits: number[] = [];
    let pid = platform.processes().get(worker)!;
    // Delays of 1 s, 2 s, then 2 s (the cap) each time; concurrently's uncapped doubling waited 16 s, then 32 s.
    for (let crash = 1; crash <= 6; crash += 1) {
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      pid = await eventually(async () => {
        const next = platform.processes().get(worker);
        return next !== undefined && next !== pid ? next : undefined;
      }, 30_000, 50);
      waits.push(Date.now() - killedAt);
    }
    expect(platform.output()).toMatch(/files-worker\s*\] services\/files\/dist\/worker\.mjs ended unexpectedly \(crash 6 in a row\); restarting in 2 s/);
    // The cap plus the time a loaded machine takes to notice the exit and spawn the process.
    for (const wait of waits) expect(wait).toBeLessThan(2_000 + 4_000);
    await eventually(async () => ((await ready()) ? true : undefined), 30_000, 250);
  }, 120_000);
});

describe('when a process exits with code 0 while the platform is not stopping', () => {
  it('counts it as a crash and starts it again (a stray SIGTERM does not take it down for good)', async () => {
    const before = platform.processes();
    const worker = 'services/runner/dist/worker.mjs';
    process.kill(before.get(worker)!, 'SIGTERM');
    await restarted(worker, before.get(worker)!);
    expect(platform.output()).toMatch(/runner-worker\s*\] services\/runner\/dist\/worker\.mjs exited with code 0/);
    expect(platform.output()).toMatch(/runner-worker\s*\] services\/runner\/dist\/worker\.mjs ended unexpectedly \(crash 1 in a row\); restarting in 1 s/);
    expect(platform.output()).toMatch(/runner-worker\s*\] services\/runner\/dist\/worker\.mjs restarted/);
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

describe('when Ctrl-C reaches the supervisor', () => {
  it('closes every process gracefully and exits 0, leaving nothing running', async () => {
    const running = platform.processes();
    expect(running.size).toBe(bundles().length);
    const outputBefore = platform.output().length;
    // As a terminal sends it: to the supervisor's process group (each child runs in a group of its own).
    process.kill(-platform.supervisor.pid!, 'SIGINT');
    const code = await new Promise<number | null>((resolve) => platform.supervisor.once('exit', resolve));
    expect(code).toBe(0);
    expect(platform.processes().size).toBe(0);
    const stopped = platform.output().slice(outputBefore);
    // Each closed on the signal rather than being killed, and none was started again.
    expect(stopped).not.toMatch(/exited with code SIG/);
    expect(stopped.match(/exited with code 0/g)).toHaveLength(bundles().length);
    expect(stopped).not.toMatch(/restart/);
  }, 60_000);
});
