import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { serviceNames, serviceRegistry } from '@hexa/contract';
import { dropWorkspaceClusterObjects, eventually, flushRedisPrefix, testRedisUrl, uniqueQueuePrefix } from '@hexa/testing';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const ownerLogin = { email: 'owner@faults.test', password: 'owner password for the fault run' };

/**
 * The platform as `npm start` runs it (deploy/local/run.ts: provisioning,
 * migrations, the owner seed, every server and worker under the supervisor),
 * on its own database, roles, state folder, ports and Redis prefix, so that a
 * test may kill and restart its processes.
 */
export interface Platform {
  /**
   * The gateway, e.g. http://127.0.0.1:31080. Each platform of the tests and the bench has ports of its own
   * (27080 bench, 28080 console e2e, 29080 PostgreSQL restart, 30080 delivery faults, 31080 supervisor, each
   * with its services at +1…+9), all below Linux's ephemeral range (32768–60999), where any outgoing
   * connection of the machine may hold a port for a while.
   */
  url: string;
  prefix: string;
  /** Its database roles' prefix; its workspace databases are named `<rolePrefix>ws_…`. */
  rolePrefix: string;
  /** Superuser connection to the platform's database (for assertions). */
  databaseUrl: string;
  /** Its .hexa folder: keys, passwords. */
  stateDir: string;
  /** The port each service listens on. */
  ports: Record<string, number>;
  supervisor: ChildProcess;
  output(): string;
  /** The pid of each running process of this platform, by file (`services/membership/dist/worker.mjs`). */
  processes(): Map<string, number>;
  query<T extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Signs in as the organization owner; returns an access token. */
  login(): Promise<string>;
  /** Stops the supervisor with SIGTERM and waits; returns its exit code. Cleans up everything. */
  stop(): Promise<number | null>;
}

/** The processes of a platform: those whose environment carries its Redis prefix. */
function processesOf(prefix: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environment = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!environment.includes(`HEXA_QUEUE_PREFIX=${prefix}`)) continue;
      const file = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').find((part) => /^services\/\w+\/dist\/(server|worker)\.mjs$/.test(part));
      if (file) found.set(file, Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Starts a platform whose database lives on the server of `serverUrl` (a
 * superuser URL; a fresh database is created there) and waits for the banner.
 */
export async function startPlatform(options: { serverUrl: string; port: number; logLevel?: string; env?: Record<string, string> }): Promise<Platform> {
  const id = randomBytes(4).toString('hex');
  const database = `hexa_run_${id}`;
  // Short: the databases it makes on the workspace cluster are named `<prefix>ws_…`.
  const rolePrefix = `hr${id}_`;
  const prefix = uniqueQueuePrefix();
  const serverUrl = new URL(options.serverUrl);
  await adminQuery(serverUrl.toString(), `create database "${database}"`);
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${database}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'hexa-run-'));

  const supervisor = spawn(process.execPath, ['--import', 'tsx', 'deploy/local/run.ts'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HEXA_STATE_DIR: stateDir,
      HEXA_DATABASE_ROLE_PREFIX: rolePrefix,
      HEXA_ADMIN_DATABASE_URL: databaseUrl.toString(),
      HEXA_QUEUE_PREFIX: prefix,
      REDIS_URL: testRedisUrl,
      HEXA_PORT: String(options.port),
      HEXA_HOST: '127.0.0.1',
      HEXA_OWNER_EMAIL: ownerLogin.email,
      HEXA_OWNER_PASSWORD: ownerLogin.password,
      LOG_LEVEL: options.logLevel ?? 'warn',
      ...options.env,
    },
  });
  let output = '';
  supervisor.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  supervisor.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));

  const url = `http://127.0.0.1:${options.port}`;
  const cleanUp = async () => {
    await adminQuery(serverUrl.toString(), `drop database if exists "${database}" with (force)`);
    for (const service of serviceNames) await adminQuery(serverUrl.toString(), `drop role if exists "${rolePrefix}${service}"`);
    // Its workspace databases and logins, and its admin login, on the shared workspace cluster.
    await dropWorkspaceClusterObjects(rolePrefix);
    await flushRedisPrefix(prefix);
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      if (supervisor.exitCode !== null) throw new Error(`the supervisor exited with ${supervisor.exitCode}:\n${output}`);
      return output.includes('Hexa is running at') ? true : undefined;
    }, 120_000, 250);
  } catch (error) {
    if (supervisor.exitCode === null) {
      process.kill(-supervisor.pid!, 'SIGKILL');
      await exited;
    }
    // Each service runs in a process group of its own: killing the supervisor's leaves them running.
    for (const pid of processesOf(prefix).values()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await cleanUp();
    throw new Error(`the platform did not start: ${(error as Error).message}\n${output}`);
  }

  return {
    url,
    prefix,
    rolePrefix,
    databaseUrl: databaseUrl.toString(),
    stateDir,
    ports: Object.fromEntries(serviceNames.map((service) => [service, options.port + serviceRegistry[service].port - serviceRegistry.gateway.port])),
    supervisor,
    output: () => output,
    processes: () => processesOf(prefix),
    async query<T extends Record<string, unknown>>(text: string, values: unknown[] = []) {
      const client = new pg.Client({ connectionString: databaseUrl.toString() });
      await client.connect();
      try {
        return (await client.query<T>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async login() {
      const response = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ownerLogin),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { accessToken: string }).accessToken;
    },
    async stop() {
      if (supervisor.exitCode === null) supervisor.kill('SIGTERM');
      const code = await exited;
      // Anything left of this platform is a supervisor bug; take it down before cleaning up.
      for (const pid of processesOf(prefix).values()) process.kill(pid, 'SIGKILL');
      await cleanUp();
      return code;
    },
  };
}
