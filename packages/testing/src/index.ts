import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { serviceNames, type ServiceName } from '@hexa/contract';
import { createInternalTokens, ensureServiceRole, schemaDdlLock, serviceDatabaseUrl, type InternalTokens } from '@hexa/kit';

/**
 * The test harness: every test file gets its own PostgreSQL schema and its
 * own Redis key prefix, so files run in parallel and never see each other.
 */

/** A superuser connection to the test database: it provisions roles and schemas, and reads rows for assertions. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hexa_test';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A fresh schema name for a service's tables, dropped by `dropSchema`. */
export function uniqueSchema(service: string): string {
  return uniqueName(`t_${service}`);
}

/** A fresh Redis key prefix for queues and channels. */
export function uniqueQueuePrefix(): string {
  return uniqueName('test').replace(/_/g, '-');
}

/**
 * The login role a service's test schemas belong to. Not `npm start`'s
 * `hexa_<service>`: the two may share a cluster, and tests must not change
 * the development roles' passwords.
 */
export function testRole(service: string): string {
  return `hexa_test_${service}`;
}

/** Every test role has this password: the test database is throwaway, and a cluster that checks passwords accepts it. */
const testRolePassword = 'hexa test role password';

export interface ServiceDatabase {
  /** A fresh schema, owned by `role`. */
  schema: string;
  role: string;
  /** Connects as `role`: what the service's `DATABASE_URL` is in production. */
  url: string;
}

/**
 * A fresh schema for `service`, provisioned as production provisions it: owned
 * by the service's own login role, which can reach nothing else. Connect with
 * `url` (as the service does), migrate, and the tables belong to the role.
 * Drop it with `dropSchema`.
 */
export async function createServiceSchema(service: string): Promise<ServiceDatabase> {
  const schema = uniqueSchema(service);
  const role = testRole(service);
  await ensureServiceRole({ adminUrl: testDatabaseUrl, role, password: testRolePassword, schema });
  return { schema, role, url: testRoleUrl(service) };
}

/** The test database, logged in as `service`'s test role (provisioned by `createServiceSchema`). */
export function testRoleUrl(service: string): string {
  return serviceDatabaseUrl(testDatabaseUrl, testRole(service), testRolePassword);
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    // Not while a migration looks at the database's tables (packages/kit migrateToLatest).
    await client.query('select pg_advisory_lock($1)', [schemaDdlLock]);
    await client.query(`drop schema if exists ${client.escapeIdentifier(schema)} cascade`);
    await client.query('select pg_advisory_unlock($1)', [schemaDdlLock]);
  } finally {
    await client.end();
  }
}

/** Runs one SQL statement against the test database as a superuser (for assertions on rows). */
export async function query<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  return queryAs<T>(testDatabaseUrl, text, values);
}

/** Runs one SQL statement on its own connection to `url`, e.g. `testRoleUrl('membership')`, to see what that login may do. */
export async function queryAs<T extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Deletes every Redis key under a prefix at one instant — what a Redis that loses its data (a restart
 * without persistence, a FLUSHALL) looks like to the platform. One script, so no command of the platform
 * runs between two deletions: a SCAN-then-DEL from outside left halves of a job (its id in a list, its
 * data gone) that no real loss of data makes.
 */
export async function flushRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(testRedisUrl);
  try {
    const script = `
      local deleted, cursor = 0, '0'
      repeat
        local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
        cursor = page[1]
        for _, key in ipairs(page[2]) do deleted = deleted + redis.call('DEL', key) end
      until cursor == '0'
      return deleted`;
    return Number(await redis.eval(script, 0, `${prefix}:*`));
  } finally {
    redis.disconnect();
  }
}

/** 'ok', or the SQLSTATE refusing a login over TCP with these credentials (e.g. 28P01 wrong password, 28000 login disabled). */
export async function loginOutcome(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A URL where nothing listens: a dependency that is down. */
export const unreachableRedisUrl = 'redis://127.0.0.1:1';

/** Waits until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`Condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Waits until exactly one connection is subscribed to `channel` on the test Redis. */
export async function subscribed(channel: string): Promise<void> {
  const redis = new Redis(testRedisUrl);
  try {
    await eventually(async () => ((await redis.pubsub('NUMSUB', channel))[1] === 1 ? true : undefined));
  } finally {
    redis.disconnect();
  }
}

/** A fresh Ed25519 key pair in PEM, as the start command generates for development. */
export function generateSigningKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** One Ed25519 key pair per service, made once per test file, as `npm start` makes them once per installation. */
export const serviceKeys = Object.fromEntries(serviceNames.map((service) => [service, generateSigningKeys()])) as Record<ServiceName, { privateKey: string; publicKey: string }>;

/** The configuration that gives `service` its own key and every service's public key. */
export function serviceKeyEnv(service: ServiceName): { HEXA_SERVICE_KEY: string; HEXA_SERVICE_PUBLIC_KEYS: string } {
  return {
    HEXA_SERVICE_KEY: serviceKeys[service].privateKey,
    HEXA_SERVICE_PUBLIC_KEYS: JSON.stringify(Object.fromEntries(serviceNames.map((name) => [name, serviceKeys[name].publicKey]))),
  };
}

/** Internal tokens signed with `service`'s key: a test that speaks as that service. */
export function tokensOf(service: ServiceName): InternalTokens {
  return createInternalTokens({
    service,
    privateKey: serviceKeys[service].privateKey,
    publicKeys: Object.fromEntries(serviceNames.map((name) => [name, serviceKeys[name].publicKey])),
  });
}

/**
 * The cluster of workspace databases (scripts/lib/ensure.sh ensure_workspace_cluster): password logins
 * over TCP. Its superuser is reached through the Unix socket, for set-up and assertions only.
 */
export const testWorkspaceClusterSuperuserUrl = process.env.TEST_WORKSPACE_DB_SUPERUSER_URL ?? 'postgres://postgres@localhost:5433/postgres?host=/var/run/postgresql';

/** The databases service's admin login on that cluster in tests (CREATEDB CREATEROLE): a fixed password, like the other test roles. */
export const testWorkspaceClusterAdminUrl = process.env.TEST_WORKSPACE_DB_ADMIN_URL ?? 'postgres://hexa_test_workspace_admin:hexa-test-workspace-admin@127.0.0.1:5433/postgres';

/** A fresh prefix for the databases and logins a test makes on the workspace cluster, dropped by `dropWorkspaceClusterObjects`. */
export function uniqueWorkspaceDatabasePrefix(): string {
  return `t${randomBytes(4).toString('hex')}_`;
}

/** A fresh HEXA_DATABASE_ENCRYPTION_KEY (32 bytes, base64). */
export function testEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/** The databases and logins on the workspace cluster whose names start with `prefix`. */
export async function workspaceClusterObjects(prefix: string): Promise<{ databases: string[]; roles: string[] }> {
  const client = new pg.Client({ connectionString: testWorkspaceClusterSuperuserUrl });
  await client.connect();
  try {
    const databases = await client.query<{ name: string }>('select datname as name from pg_database where left(datname, length($1)) = $1 order by 1', [prefix]);
    const roles = await client.query<{ name: string }>('select rolname as name from pg_roles where left(rolname, length($1)) = $1 order by 1', [prefix]);
    return { databases: databases.rows.map((row) => row.name), roles: roles.rows.map((row) => row.name) };
  } finally {
    await client.end();
  }
}

/** Drops what a test made on the workspace cluster under `prefix` (databases first: the logins own their schemas). */
export async function dropWorkspaceClusterObjects(prefix: string): Promise<void> {
  const { databases, roles } = await workspaceClusterObjects(prefix);
  const client = new pg.Client({ connectionString: testWorkspaceClusterSuperuserUrl });
  await client.connect();
  try {
    for (const database of databases) await client.query(`drop database if exists ${client.escapeIdentifier(database)} with (force)`);
    // An admin login also holds grants in the cluster's own database (CONNECT on postgres): drop them with it.
    for (const role of roles) {
      await client.query(`drop owned by ${client.escapeIdentifier(role)}`);
      await client.query(`drop role if exists ${client.escapeIdentifier(role)}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Watches the commits of changes to `schema.table` and records, at the very
 * instant each commits, how many of the schema's Idempotency-Keys were still
 * without an answer. A creating request whose answer is written in the
 * transaction of its effect leaves none; one that stores it after the commit
 * leaves its own key unanswered there (a crash in between would let a retry
 * after the lease create the thing twice). A deferred constraint trigger runs
 * at commit, inside the transaction, so it sees exactly what commits.
 *
 * @example
 * const watch = await watchIdempotentCommits(stack.schemas.runner, 'pipelines');
 * await stack.call({ method: 'POST', url, token, headers: { 'idempotency-key': 'k1' }, payload });
 * expect(await watch.unansweredAtCommit()).toEqual([0]);
 */
export async function watchIdempotentCommits(schema: string, table: string): Promise<{ unansweredAtCommit(): Promise<number[]>; stop(): Promise<void> }> {
  const name = uniqueName('commit_watch');
  await query(`create table "${schema}"."${name}" (seq serial primary key, unanswered int not null)`);
  await query(
    `create function "${schema}"."${name}"() returns trigger language plpgsql as $$
       begin
         insert into "${schema}"."${name}" (unanswered) select count(*) from "${schema}".idempotency_keys where status is null;
         return null;
       end $$`,
  );
  await query(`create constraint trigger "${name}" after insert or update on "${schema}"."${table}" deferrable initially deferred for each row execute function "${schema}"."${name}"()`);
  // The service's role writes the watched table, so the trigger's insert runs as it too.
  await query(`grant insert on "${schema}"."${name}" to public; grant usage on sequence "${schema}"."${name}_seq_seq" to public`);
  return {
    async unansweredAtCommit() {
      return (await query<{ unanswered: number }>(`select unanswered from "${schema}"."${name}" order by seq`)).map((row) => row.unanswered);
    },
    async stop() {
      await query(`drop trigger "${name}" on "${schema}"."${table}"; drop function "${schema}"."${name}"(); drop table "${schema}"."${name}"`);
    },
  };
}

export { htmlDangers, xssPayloads } from './xss-payloads.js';
export { invalidImageReferences, validImageReferences, type ParsedReference } from './image-references.js';
