import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import type { Kysely } from 'kysely';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createDatabase, createQueue, createRedis, databaseLogin, loggerOptions, migrateToLatest } from '@hexa/kit';
import {
  createServiceSchema,
  dropSchema,
  dropWorkspaceClusterObjects,
  eventually,
  flushRedisPrefix,
  serviceKeyEnv,
  testEncryptionKey,
  testRedisUrl,
  testWorkspaceClusterAdminUrl,
  testWorkspaceClusterSuperuserUrl,
  uniqueQueuePrefix,
  uniqueWorkspaceDatabasePrefix,
} from '@hexa/testing';
import { loadDatabasesConfig, type DatabasesConfig } from '../src/config.js';
import type { DatabasesDatabase } from '../src/database.js';
import { ensureClusterAdmin } from '../src/modules/cluster/cluster-admin.js';
import { createSecrets, type Secrets } from '../src/modules/secrets/secrets.js';
import { migrations } from '../src/migrations/index.js';
import { createDatabasesWorker, type DatabasesWorker } from '../src/worker-runtime.js';

/** The databases service's admin login on the workspace cluster, as `npm test` and `npm start` set it up. */
export async function ensureTestClusterAdmin(): Promise<void> {
  const { role, password } = databaseLogin(testWorkspaceClusterAdminUrl);
  await ensureClusterAdmin({ superuserUrl: testWorkspaceClusterSuperuserUrl, role, password });
}

/** Where the workspace cluster listens over TCP (the admin URL's host and port). */
const cluster = { host: new URL(testWorkspaceClusterAdminUrl).hostname, port: Number(new URL(testWorkspaceClusterAdminUrl).port || 5432) };

/** The outcome of a login over TCP as users make it: 'ok' or the SQLSTATE of the refusal. */
export async function loginOutcome(login: { user: string; password: string; database: string }): Promise<string> {
  const client = new pg.Client({ ...cluster, ...login, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs statements over TCP as a workspace login; returns each one's rows or its SQLSTATE. */
export async function runAs(login: { user: string; password: string; database: string }, statements: string[]): Promise<(Record<string, unknown>[] | string)[]> {
  const client = new pg.Client({ ...cluster, ...login });
  await client.connect();
  try {
    const results: (Record<string, unknown>[] | string)[] = [];
    for (const statement of statements) {
      try {
        results.push((await client.query(statement)).rows);
      } catch (error) {
        results.push((error as { code: string }).code);
      }
    }
    return results;
  } finally {
    await client.end();
  }
}

/** One statement on the workspace cluster as its superuser (assertions only). */
export async function asSuperuser<T extends Record<string, unknown>>(text: string, values: unknown[] = [], database = 'postgres'): Promise<T[]> {
  const url = new URL(testWorkspaceClusterSuperuserUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export function newWorkspace(): { workspaceId: string; slug: string; createdBy: string } {
  const workspaceId = randomUUID();
  return { workspaceId, slug: `ws-${workspaceId.slice(0, 8)}`, createdBy: randomUUID() };
}

export interface Fixture {
  schema: string;
  /** Prefix of every database and login this fixture makes on the workspace cluster. */
  prefix: string;
  queuePrefix: string;
  /** The settings a worker process would get from its environment. */
  env: Record<string, string>;
  config: DatabasesConfig;
  /** The service's tables, logged in as its own role. */
  db: Kysely<DatabasesDatabase>;
  secrets: Secrets;
  queues: { databases: Queue; workspaces: Queue };
  /** Every line the in-process workers logged. */
  logs: string[];
  /** A databases worker in this process (closed with the fixture). */
  startWorker(overrides?: Record<string, string>): Promise<DatabasesWorker>;
  /** Sends `workspace.created` as the workspaces outbox does (same job id). */
  created(workspace: { workspaceId: string; slug: string; createdBy: string }): Promise<void>;
  /** Waits until the workspace's database has this status, and returns its row. */
  waitForStatus(workspaceId: string, status: 'ready' | 'failed' | 'provisioning', timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The passwords the service stored for a workspace, decrypted. */
  passwords(workspaceId: string): Promise<{ owner: string; reader: string; names: { database: string; owner: string; reader: string } }>;
  close(): Promise<void>;
}

/**
 * The databases service's schema (owned by its test role), its settings, and
 * queues under a fresh prefix; workers are started by the test, in this
 * process or as processes.
 */
export async function setUp(extraEnv: Record<string, string> = {}): Promise<Fixture> {
  await ensureTestClusterAdmin();
  const database = await createServiceSchema('databases');
  const prefix = uniqueWorkspaceDatabasePrefix();
  const queuePrefix = uniqueQueuePrefix();
  const env: Record<string, string> = {
    ...serviceKeyEnv('databases'),
    DATABASE_URL: database.url,
    DATABASE_SCHEMA: database.schema,
    REDIS_URL: testRedisUrl,
    HEXA_QUEUE_PREFIX: queuePrefix,
    HEXA_WORKSPACE_DB_ADMIN_URL: testWorkspaceClusterAdminUrl,
    HEXA_WORKSPACE_DB_PREFIX: prefix,
    HEXA_DATABASE_ENCRYPTION_KEY: testEncryptionKey(),
    LOG_LEVEL: 'info',
    OUTBOX_RELAY_INTERVAL_MS: '100',
    ...extraEnv,
  };
  const config = loadDatabasesConfig(env);
  const db = createDatabase<DatabasesDatabase>({ url: database.url, schema: database.schema });
  await migrateToLatest(db, database.schema, migrations);
  const secrets = createSecrets(config.HEXA_DATABASE_ENCRYPTION_KEY);
  const connections: Redis[] = [createRedis(testRedisUrl)];
  const queues = { databases: createQueue('databases', { connection: connections[0]!, prefix: queuePrefix }), workspaces: createQueue('workspaces', { connection: connections[0]!, prefix: queuePrefix }) };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const workers: DatabasesWorker[] = [];

  return {
    schema: database.schema,
    prefix,
    queuePrefix,
    env,
    config,
    db,
    secrets,
    queues,
    logs,
    async startWorker(overrides = {}) {
      const runtime = createDatabasesWorker({ config: loadDatabasesConfig({ ...env, ...overrides }), log: pino(loggerOptions('databases-worker', 'info'), sink) });
      // A test may close a worker itself (to replace it); the fixture closes the others.
      let closing: Promise<void> | undefined;
      const worker: DatabasesWorker = { ...runtime, close: () => (closing ??= runtime.close()) };
      workers.push(worker);
      await worker.start();
      return worker;
    },
    async created(workspace) {
      await queues.databases.add('workspace.created', workspace, { jobId: `workspace.created-${workspace.workspaceId}` });
    },
    async waitForStatus(workspaceId, status, timeoutMs = 20_000) {
      return eventually(async () => {
        const row = await db.selectFrom('workspace_databases').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
        return row?.status === status ? (row as unknown as Record<string, unknown>) : undefined;
      }, timeoutMs);
    },
    async passwords(workspaceId) {
      const row = await db.selectFrom('workspace_databases').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
      return {
        owner: secrets.open(row.owner_password, { workspaceId, login: 'owner' }),
        reader: secrets.open(row.reader_password, { workspaceId, login: 'reader' }),
        names: { database: row.database_name, owner: row.owner_role, reader: row.reader_role },
      };
    },
    async close() {
      for (const worker of workers) await worker.close();
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
      for (const connection of connections) connection.disconnect();
      await db.destroy();
      await flushRedisPrefix(queuePrefix);
      await dropSchema(database.schema);
      await dropWorkspaceClusterObjects(prefix);
    },
  };
}
