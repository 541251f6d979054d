import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { migrations as workspacesMigrations } from '../src/migrations/index.js';
import { createServiceSchema, dropSchema, eventually, flushRedisPrefix, query, serviceKeyEnv, testRedisUrl, testRole, uniqueQueuePrefix, type ServiceDatabase } from '@hexa/testing';

// The service's entry points as production runs them: separate processes, configured by the environment.
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
// Provisioned as production provisions it: a schema owned by workspaces' own login role.
const database: ServiceDatabase = await createServiceSchema('workspaces');
const schema = database.schema;
const env = {
  PATH: process.env.PATH,
  DATABASE_URL: database.url,
  DATABASE_SCHEMA: schema,
  REDIS_URL: testRedisUrl,
  HEXA_QUEUE_PREFIX: uniqueQueuePrefix(),
  ...serviceKeyEnv('workspaces'),
  MEMBERSHIP_URL: 'http://127.0.0.1:9',
  PORT: '0',
  LOG_LEVEL: 'info',
};

function runToEnd(file: string, extra: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: serviceDir, env: { ...env, ...extra }, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Running { child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** Starts an entry point and resolves once its output matches `ready`. */
async function start(file: string, ready: RegExp): Promise<Running & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: serviceDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not get ready:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`${file} exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, exited, match };
}

afterAll(async () => {
  await dropSchema(schema);
  await flushRedisPrefix(env.HEXA_QUEUE_PREFIX);
});

describe('the migrate script', () => {
  it("refuses another service's role: it may not touch this schema", async () => {
    // Membership's role, with the right schema name: the schema is there, but not membership's.
    const membership = await createServiceSchema('membership');
    const tables = () => query('select tablename, tableowner from pg_tables where schemaname = $1 order by tablename', [schema]);
    try {
      const before = await tables();
      const result = runToEnd('src/migrate.ts', { DATABASE_URL: membership.url });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`permission denied for schema ${schema}`);
      expect(await tables()).toEqual(before);
    } finally {
      await dropSchema(membership.schema);
    }
  });

  it('applies the migrations once, as the service role, then finds nothing to do', async () => {
    const first = runToEnd('src/migrate.ts');
    const names = Object.keys(workspacesMigrations);
    expect(first).toMatchObject({ status: 0, stdout: `workspaces: ${names.length} migration(s) applied: ${names.join(', ')}\n` });
    expect(runToEnd('src/migrate.ts')).toMatchObject({ status: 0, stdout: 'workspaces: 0 migration(s) applied\n' });
    // Everything it made belongs to the role the service logs in as, not to a superuser.
    const owners = await query<{ tablename: string; tableowner: string }>('select tablename, tableowner from pg_tables where schemaname = $1 order by tablename', [schema]);
    expect(owners.map((row) => row.tablename)).toEqual(['audit_events', 'idempotency_keys', 'inbox', 'kysely_migration', 'kysely_migration_lock', 'member_roles', 'organization_listed_counts', 'outbox', 'user_listed_counts', 'workspace_configurations', 'workspaces']);
    expect(new Set(owners.map((row) => row.tableowner))).toEqual(new Set([testRole('workspaces')]));
  });
});

describe('when the configuration is wrong', () => {
  it('exits 78 naming every problem, without a stack trace or the secret', () => {
    const result = runToEnd('src/server.ts', { HEXA_SERVICE_KEY: 'not a key', PORT: 'eighty' });
    expect(result.status).toBe(78);
    expect(result.stderr).toBe('workspaces: Invalid configuration:\n  HEXA_SERVICE_KEY=(secret): must match /BEGIN PRIVATE KEY/\n  PORT="eighty": must be an integer\n');
  });
});

describe('when the server runs', () => {
  it("connects to PostgreSQL as the service's own role", async () => {
    const server = await start('src/server.ts', /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    try {
      // Ready means its pool reached PostgreSQL.
      await eventually(async () => ((await fetch(`${server.match[1]!}/readyz`)).status === 200 ? true : undefined));
      // The pool names its sessions after the schema, which is this test's alone.
      const sessions = await eventually(async () => {
        const rows = await query<{ usename: string }>('select usename from pg_stat_activity where application_name = $1', [`hexa:${schema}`]);
        return rows.length > 0 ? rows : undefined;
      });
      expect(new Set(sessions.map((row) => row.usename))).toEqual(new Set([testRole('workspaces')]));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('when the server gets SIGTERM', () => {
  it('stops listening and exits 0', async () => {
    const server = await start('src/server.ts', /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    const baseUrl = server.match[1]!;
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"signal":"SIGTERM","msg":"closing"');
    await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow();
  });
});

describe('when the outbox worker gets SIGTERM', () => {
  it('stops its relay and exits 0', async () => {
    const worker = await start('src/worker.ts', /workspaces worker started/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('closing on SIGTERM');
  });
});
