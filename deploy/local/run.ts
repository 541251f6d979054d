/**
 * Local supervisor behind `npm start` (after deploy/local/start.sh has made sure
 * PostgreSQL, Redis, Docker and node_modules are there): keeps the local secrets
 * in .hexa/, provisions each service's database role and schema, migrates,
 * seeds the organization owner, then runs every service and worker of the
 * service registry (packages/contract/src/services.ts) under `concurrently`:
 * output prefixed by name; a process that exits unexpectedly, whatever its
 * code, is logged and restarted with a capped backoff (deploy/local/restart.ts);
 * only Ctrl-C or SIGTERM stops everything.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createConcurrently, KillOnSignal, LogError, LogExit, LogOutput, Logger } from 'concurrently';
import { backendServiceNames, serviceNames, serviceRegistry, serviceUrlSetting, type ServiceName } from '@hexa/contract';
import { build, bundles } from '../../scripts/build.js';
import { ownerLine, type OwnerLogin } from './banner.js';
import { defaultRestartPolicy, RestartUnexpectedExits } from './restart.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// A second instance on one machine (the fault tests run one) keeps its own state, roles, ports and Redis keys.
const stateDir = process.env.HEXA_STATE_DIR || join(root, '.hexa');
const rolePrefix = process.env.HEXA_DATABASE_ROLE_PREFIX || 'hexa_';
if (!/^[a-z][a-z0-9_]{0,40}$/.test(rolePrefix)) throw new Error(`HEXA_DATABASE_ROLE_PREFIX must be a plain lower-case identifier prefix, got ${JSON.stringify(rolePrefix)}`);
const readyTimeoutMs = 60_000;
// The longest wait before restarting a process that crashes again and again; the fault tests shorten it.
const restartMaxDelayMs = Number(process.env.HEXA_RESTART_MAX_DELAY_MS || defaultRestartPolicy.maxDelayMs);
if (!Number.isInteger(restartMaxDelayMs) || restartMaxDelayMs < defaultRestartPolicy.firstDelayMs) {
  throw new Error(`HEXA_RESTART_MAX_DELAY_MS must be a whole number of milliseconds, at least ${defaultRestartPolicy.firstDelayMs}`);
}

const log = (message: string): void => {
  process.stderr.write(`[hexa] ${message}\n`);
};

// ---------------------------------------------------------------------------
// Local state: generated once, kept across runs so sessions and data stay valid.

mkdirSync(stateDir, { recursive: true, mode: 0o700 });
chmodSync(stateDir, 0o700); // mkdir's mode is filtered by the umask and ignored if the folder exists

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** An Ed25519 key pair kept in two files; the halves only make sense together, so a missing one makes a new pair. */
function keyPair(privateKeyFile: string, publicKeyFile: string): { privateKey: string; publicKey: string } {
  if (!existsSync(privateKeyFile) || !existsSync(publicKeyFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeSecret(privateKeyFile, privateKey);
    writeSecret(publicKeyFile, publicKey);
  }
  return { privateKey: readFileSync(privateKeyFile, 'utf8'), publicKey: readFileSync(publicKeyFile, 'utf8') };
}

// Access tokens: membership signs them, the gateway verifies them.
const jwtPrivateKeyFile = join(stateDir, 'jwt-private.pem');
const jwtPublicKeyFile = join(stateDir, 'jwt-public.pem');
keyPair(jwtPrivateKeyFile, jwtPublicKeyFile);

// Internal tokens: each service signs with its own key; every service knows every public key.
const keysDir = join(stateDir, 'service-keys');
mkdirSync(keysDir, { recursive: true, mode: 0o700 });
const servicePrivateKeyFile = (service: ServiceName) => join(keysDir, `${service}-private.pem`);
const servicePublicKeysFile = join(keysDir, 'public-keys.json');
const servicePublicKeys = Object.fromEntries(
  serviceNames.map((service) => [service, keyPair(servicePrivateKeyFile(service), join(keysDir, `${service}-public.pem`)).publicKey]),
);
writeFileSync(servicePublicKeysFile, `${JSON.stringify(servicePublicKeys, null, 2)}\n`);

type Owner = Omit<OwnerLogin, 'passwordSignsIn'>;

/**
 * The owner's login for the seed: e-mail and password from the environment
 * first, then .hexa/owner.json, then new ones. Only a generated password is
 * written to disk; one given through HEXA_OWNER_PASSWORD stays where it was given.
 */
function loadOwner(): Owner {
  const file = join(stateDir, 'owner.json');
  let stored: Partial<Pick<Owner, 'email' | 'password'>> = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Owner>;
    } catch (error) {
      throw new Error(`cannot read ${file} (${(error as Error).message}); delete it to start with new owner credentials`);
    }
  }
  const email = process.env.HEXA_OWNER_EMAIL || stored.email || 'owner@hexa.local';
  const storedPassword = stored.password || randomBytes(15).toString('base64url'); // 20 chars
  if (email !== stored.email || storedPassword !== stored.password) writeSecret(file, `${JSON.stringify({ email, password: storedPassword }, null, 2)}\n`);
  const given = process.env.HEXA_OWNER_PASSWORD;
  return given ? { email, password: given, generated: false } : { email, password: storedPassword, generated: true };
}

const owner = loadOwner();

// PostgreSQL: the superuser provisions; each service logs in as its own role (hexa_<service>),
// with a password generated once and kept in .hexa/database-roles.json.
const adminDatabaseUrl = process.env.HEXA_ADMIN_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/hexa';
const databaseServices = serviceNames.filter((service) => serviceRegistry[service].database);
type DatabaseService = ServiceName;

function loadRolePasswords(): Record<string, string> {
  const file = join(stateDir, 'database-roles.json');
  let stored: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`cannot read ${file} (${(error as Error).message}); delete it to give the database roles new passwords`);
    }
  }
  const passwords: Record<string, string> = {};
  for (const service of databaseServices) {
    const role = roleOf(service);
    const known = stored[role];
    passwords[role] = typeof known === 'string' && known.length >= 16 ? known : randomBytes(24).toString('base64url'); // 32 chars
  }
  if (databaseServices.some((service) => passwords[roleOf(service)] !== stored[roleOf(service)])) writeSecret(file, `${JSON.stringify(passwords, null, 2)}\n`);
  return passwords;
}

function roleOf(service: DatabaseService): string {
  return `${rolePrefix}${service}`;
}

const rolePasswords = loadRolePasswords();

// The workspace databases live on their own cluster with password logins (scripts/lib/ensure.sh
// ensure_workspace_cluster). The databases service reaches it as an admin login with CREATEDB CREATEROLE
// (not a superuser), whose password is generated once into .hexa/workspace-cluster.json; its passwords
// are encrypted at rest with a key generated once into .hexa/database-encryption.key.
// HEXA_WORKSPACE_DB_ADMIN_URL names another cluster instead (its admin login then exists already).
const workspaceClusterPort = process.env.HEXA_WORKSPACE_PG_PORT || '5433';
const givenWorkspaceAdminUrl = process.env.HEXA_WORKSPACE_DB_ADMIN_URL;
const workspaceSuperuserUrl = process.env.HEXA_WORKSPACE_DB_SUPERUSER_URL || `postgres://postgres@localhost:${workspaceClusterPort}/postgres?host=/var/run/postgresql`;

function loadWorkspaceAdminUrl(): string {
  const file = join(stateDir, 'workspace-cluster.json');
  let stored: { role?: unknown; password?: unknown } = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
    } catch (error) {
      throw new Error(`cannot read ${file} (${(error as Error).message}); delete it to give the workspace cluster's admin login a new password`);
    }
  }
  // Named after the instance's role prefix: a second instance on the same cluster (the fault tests) has its own.
  const role = `${rolePrefix}workspace_admin`;
  const password = typeof stored.password === 'string' && stored.password.length >= 16 ? stored.password : randomBytes(24).toString('base64url');
  if (stored.role !== role || stored.password !== password) writeSecret(file, `${JSON.stringify({ role, password }, null, 2)}\n`);
  return `postgres://${role}:${password}@127.0.0.1:${workspaceClusterPort}/postgres`;
}

const databaseEncryptionKeyFile = join(stateDir, 'database-encryption.key');
if (!existsSync(databaseEncryptionKeyFile)) writeSecret(databaseEncryptionKeyFile, `${randomBytes(32).toString('base64')}\n`);
// Connections' secret values are encrypted with a key of their own, generated once (to rotate it, put
// `k2:<new key>,k1:<old key>` in the file: docs/operations.md).
const connectionsEncryptionKeyFile = join(stateDir, 'connections-encryption.key');
if (!existsSync(connectionsEncryptionKeyFile)) writeSecret(connectionsEncryptionKeyFile, `${randomBytes(32).toString('base64')}\n`);
// The workspaces' files: one folder per workspace (named by its id), which the runner mounts into runs.
const filesDir = process.env.HEXA_FILES_DIR || join(stateDir, 'files');
mkdirSync(filesDir, { recursive: true, mode: 0o755 });
const workspaceAdminUrl = givenWorkspaceAdminUrl || loadWorkspaceAdminUrl();

/** The admin URL's server and database, logged in as the service's role. */
function databaseUrlOf(service: DatabaseService): string {
  const databaseUrl = new URL(adminDatabaseUrl);
  databaseUrl.username = roleOf(service);
  databaseUrl.password = rolePasswords[roleOf(service)]!;
  return databaseUrl.toString();
}

// ---------------------------------------------------------------------------
// Configuration passed to every child.

const gatewayPort = process.env.HEXA_PORT || String(serviceRegistry.gateway.port);
if (!/^\d{1,5}$/.test(gatewayPort)) throw new Error(`HEXA_PORT must be a port number, got ${JSON.stringify(gatewayPort)}`);
/** The services listen next to the gateway, as the registry spaces them: 8080 → 8081, 8082…; HEXA_PORT=18080 → 18081, 18082… */
const portOf = (service: ServiceName): number => Number(gatewayPort) + serviceRegistry[service].port - serviceRegistry.gateway.port;
const gatewayHost = process.env.HEXA_HOST || '0.0.0.0';

// The owner's password reaches only the seed step, the superuser's URL only provisioning, and each
// service's database login only that service: none of them goes to every long-running process.
const ownerPasswordReset = process.env.HEXA_OWNER_PASSWORD_RESET || 'false';
const ownerName = process.env.HEXA_OWNER_NAME || 'Organization Owner';
// (concurrently starts each child with this process's environment, so they leave it too.)
for (const name of ['HEXA_OWNER_EMAIL', 'HEXA_OWNER_PASSWORD', 'HEXA_OWNER_PASSWORD_RESET', 'HEXA_ADMIN_DATABASE_URL', 'DATABASE_URL', 'HEXA_WORKSPACE_DB_ADMIN_URL', 'HEXA_WORKSPACE_DB_SUPERUSER_URL']) delete process.env[name];
const inherited = { ...process.env };

const commonEnv: NodeJS.ProcessEnv = {
  ...inherited,
  REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  HEXA_QUEUE_PREFIX: process.env.HEXA_QUEUE_PREFIX || 'hexa',
  HEXA_SERVICE_PUBLIC_KEYS_FILE: servicePublicKeysFile,
  HEXA_JWT_PRIVATE_KEY_FILE: jwtPrivateKeyFile,
  HEXA_JWT_PUBLIC_KEY_FILE: jwtPublicKeyFile,
  LOG_LEVEL: process.env.LOG_LEVEL || 'info',
  ...Object.fromEntries(backendServiceNames.map((service) => [serviceUrlSetting(service), `http://127.0.0.1:${portOf(service)}`])),
  HOST: '127.0.0.1',
};

const withKey = (service: ServiceName, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ HEXA_SERVICE_KEY_FILE: servicePrivateKeyFile(service), ...env });
const withDatabase = (service: DatabaseService): NodeJS.ProcessEnv => (serviceRegistry[service].database ? { DATABASE_URL: databaseUrlOf(service) } : {});
// The runner: workspace files under the state folder (the files service serves the same folder), the gateway as
// containers reach it over the Docker bridge, and its containers labelled with this instance's name.
const runnerSettings: NodeJS.ProcessEnv = {
  HEXA_FILES_DIR: filesDir,
  HEXA_SERVER_URL: process.env.HEXA_SERVER_URL || `http://host.docker.internal:${gatewayPort}`,
  HEXA_RUNNER_INSTANCE: process.env.HEXA_RUNNER_INSTANCE || rolePrefix.replace(/_+$/, '').replace(/_/g, '-'),
};

/** What only some services get: the databases service's cluster login and encryption key; the runner's folders and names; the files service's folder and key. */
const ownSettings = (service: ServiceName): NodeJS.ProcessEnv => {
  if (service === 'databases') return { HEXA_WORKSPACE_DB_ADMIN_URL: workspaceAdminUrl, HEXA_DATABASE_ENCRYPTION_KEY_FILE: databaseEncryptionKeyFile, HEXA_WORKSPACE_DB_PREFIX: `${rolePrefix}ws_` };
  if (service === 'runner') return runnerSettings;
  if (service === 'files') return { HEXA_FILES_DIR: filesDir, HEXA_CONNECTIONS_ENCRYPTION_KEY_FILE: connectionsEncryptionKeyFile };
  return {};
};

/** Every long-running process — each service's server, and its worker where it has one — as a compiled bundle. */
const processes = bundles().map((bundle) => {
  const service = bundle.name.replace(/-worker$/, '') as ServiceName;
  const env = withKey(service, { ...withDatabase(service), ...ownSettings(service) });
  const port = bundle.name === service ? (service === 'gateway' ? { PORT: gatewayPort, HOST: gatewayHost } : { PORT: String(portOf(service)) }) : {};
  return { name: bundle.name, file: bundle.outfile, env: { ...env, ...port } };
});
const nameWidth = Math.max(...processes.map((entry) => entry.name.length));

// ---------------------------------------------------------------------------
// One-off steps, then the supervised processes.

/**
 * How the compiled bundles run (docs/operations.md): stack traces that name
 * the TypeScript sources, and a young generation of V8's heap kept small
 * (semi-spaces of 2 MB instead of 16), so that what a burst of requests
 * allocated is not held afterwards, and `gc` exposed so that a server
 * collects what a load left once it is idle (`collectGarbageWhenIdle` in the
 * kit): measured in docs/benchmarks.md (memory after the load) and
 * docs/decisions/0015-performance.md.
 */
const bundleNodeFlags = ['--enable-source-maps', '--max-semi-space-size=2', '--expose-gc'];

/**
 * glibc gives each thread that allocates (libuv's pool, V8's compiler and
 * collector threads) an arena of its own, up to eight per core, and keeps
 * what was freed in each: two arenas bound what a load leaves outside the V8
 * heap (docs/decisions/0015-performance.md).
 */
const bundleEnv = { MALLOC_ARENA_MAX: '2' };

/** Extra Node.js flags for every process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` (NODE_OPTIONS refuses some). */
const nodeArgs = (process.env.HEXA_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

// Registered before concurrently's KillOnSignal, so that the restart controller knows it is stopping before any child ends.
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => stop.abort());
const stopping = (): boolean => stop.signal.aborted;

/**
 * Runs a file in one node process (no pnpm or shell in between), in a process group of its own, so that Ctrl-C in a
 * terminal reaches only this supervisor, which then signals each child once.
 * (A child that got the terminal's SIGINT and then ours would take the second
 * as "exit now" and skip its graceful close.)
 */
function launch(file: string, options: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions; cwd?: string }): ChildProcess {
  // TypeScript (one-off steps) through the tsx loader; the compiled bundles of the long-running processes as they are.
  const loader = file.endsWith('.ts') ? ['--import', 'tsx'] : bundleNodeFlags;
  const env = file.endsWith('.ts') ? options.env : { ...options.env, ...bundleEnv };
  return spawn(process.execPath, [...nodeArgs, ...loader, file], { cwd: options.cwd ?? root, env, stdio: options.stdio, detached: true });
}

/**
 * Runs a one-off step to completion; its output goes straight to the terminal.
 * Returns what the step sent over its IPC channel (the owner seed reports there).
 */
async function runStep(file: string, env: NodeJS.ProcessEnv): Promise<unknown[]> {
  if (stopping()) return [];
  log(`running ${file}`);
  const child = launch(file, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: unknown[] = [];
  child.on('message', (message) => messages.push(message));
  const code = await new Promise<number | string>((resolve) => {
    child.once('exit', (exitCode, signal) => resolve(signal ?? exitCode ?? 1));
    child.once('error', (error) => resolve(error.message));
  });
  if (code !== 0 && !stopping()) throw new Error(`${file} ended with ${code}`);
  return messages;
}

/**
 * Runs every process under concurrently: output prefixed by name, each exit
 * logged, a process that ends unexpectedly started again after 1 s, 2 s, 4 s…
 * up to 30 s (deploy/local/restart.ts), for as long as the supervisor runs.
 * SIGINT, SIGTERM or SIGHUP is passed to each process's group once; the
 * supervisor ends when they all have.
 */
function supervise(): Promise<unknown> {
  const logger = new Logger({ prefixFormat: 'name' });
  const abortController = new AbortController();
  const { commands, result } = createConcurrently(
    processes.map((entry) => ({ name: entry.name.padEnd(nameWidth), command: entry.file, env: { ...commonEnv, ...entry.env } as Record<string, unknown>, cwd: root })),
    {
      logger,
      outputStream: process.stdout,
      abortSignal: abortController.signal,
      spawn: (command, options) => launch(command, { env: options.env as NodeJS.ProcessEnv, stdio: options.stdio as StdioOptions, cwd: options.cwd as string }),
      kill: (pid, signal) => {
        try {
          process.kill(-pid, (signal ?? 'SIGTERM') as NodeJS.Signals);
        } catch {
          // already gone
        }
      },
      controllers: [
        new LogError({ logger }),
        new LogOutput({ logger }),
        new LogExit({ logger }),
        new KillOnSignal({ process, abortController }),
        new RestartUnexpectedExits({ logger, stop: stop.signal, policy: { ...defaultRestartPolicy, maxDelayMs: restartMaxDelayMs } }),
      ],
    },
  );
  // Last resort if the supervisor itself dies (an uncaught error): take every process group down with it.
  process.on('exit', () => {
    for (const command of commands) {
      if (command.pid === undefined) continue;
      try {
        process.kill(-command.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  return result;
}

/**
 * Polls the gateway's readiness endpoint until it answers 200 (true) or shutdown
 * begins (false). Past the timeout it says what it last saw and keeps polling,
 * so a slow first start still ends with the banner.
 */
async function waitUntilReady(url: string): Promise<boolean> {
  let deadline = Date.now() + readyTimeoutMs;
  let last = 'no answer';
  while (!stopping()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (response.status === 200) return true;
      last = `HTTP ${response.status} ${body}`;
    } catch (error) {
      const cause = (error as Error & { cause?: unknown }).cause;
      last = String(cause ?? error);
    }
    if (Date.now() > deadline) {
      log(`${url} not ready after ${readyTimeoutMs / 1000} s (still running, still waiting); last answer: ${last}`);
      deadline = Infinity;
    }
    await sleep(500);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Start.

/** What the owner seed reported: whether the password we hold signs in (services/membership/src/seed-owner.ts). */
let ownerPasswordSignsIn = false;

try {
  await runStep('deploy/local/provision.ts', {
    ...commonEnv,
    HEXA_ADMIN_DATABASE_URL: adminDatabaseUrl,
    ...Object.fromEntries(databaseServices.map((service) => [`${service.toUpperCase()}_DATABASE_URL`, databaseUrlOf(service)])),
  });
  if (!givenWorkspaceAdminUrl) {
    await runStep('services/databases/src/provision-cluster.ts', { ...commonEnv, HEXA_WORKSPACE_DB_SUPERUSER_URL: workspaceSuperuserUrl, HEXA_WORKSPACE_DB_ADMIN_URL: workspaceAdminUrl });
  }
  for (const service of databaseServices) await runStep(`services/${service}/src/migrate.ts`, { ...commonEnv, ...withDatabase(service) });
  // Creates the owner when missing; an existing owner keeps its password (HEXA_OWNER_PASSWORD_RESET=true resets it).
  const reports = await runStep('services/membership/src/seed-owner.ts', {
    ...commonEnv,
    ...withDatabase('membership'),
    HEXA_OWNER_EMAIL: owner.email,
    HEXA_OWNER_PASSWORD: owner.password,
    HEXA_OWNER_NAME: ownerName,
    HEXA_OWNER_PASSWORD_RESET: ownerPasswordReset,
  });
  ownerPasswordSignsIn = reports.some((report) => (report as { seedOwner?: { passwordSignsIn?: unknown } } | null)?.seedOwner?.passwordSignsIn === true);
} catch (error) {
  log(`start failed: ${(error as Error).message}`);
  process.exit(1);
}

if (stopping()) process.exit(0);
log('compiling the services (scripts/build.ts)');
await build();
if (stopping()) process.exit(0);
const supervised = supervise().then(
  () => process.exit(0),
  () => process.exit(1),
);

// Wildcard and loopback addresses are reachable as localhost; anything else is shown as given.
const local = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(gatewayHost);
const probeHost = local ? '127.0.0.1' : gatewayHost.includes(':') ? `[${gatewayHost}]` : gatewayHost;
const publicUrl = `http://${local ? 'localhost' : probeHost}:${gatewayPort}`;

if (await waitUntilReady(`http://${probeHost}:${gatewayPort}/api/readyz`)) {
  process.stdout.write(['', `Hexa is running at ${publicUrl}   (API reference: ${publicUrl}/api/docs)`, ownerLine({ ...owner, passwordSignsIn: ownerPasswordSignsIn }), 'Press Ctrl-C to stop.', '', ''].join('\n'));
}

await supervised;
