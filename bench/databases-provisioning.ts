/**
 * Creation → ready latency of a workspace database, side by side with the floor: the same SQL statements
 * sent straight through psql by the same admin login. Prints its figures as JSON.
 *
 *   pnpm exec tsx bench/databases-provisioning.ts            # after `npm test` has made the workspace cluster
 *   BENCH_ITERATIONS=20 BENCH_BATCH=50 pnpm exec tsx bench/databases-provisioning.ts
 *
 * "Ours" is measured from the `workspace.created` job reaching the databases queue (what the workspaces
 * outbox delivers) to that job completing: the database is then `ready`, and its status report is committed
 * to the outbox. The floor runs each workspace's statements in one psql session (the cluster-wide
 * statements, then `\connect` to the new database for the grants, then `\connect` as the owner to check
 * its login), with as many workspaces at once as the worker runs jobs at once. Targets (issue 11): one
 * workspace within 1.5 × the floor + 50 ms; 50 at once all ready, none failed; a rotation's old password
 * refused within 1 s.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { QueueEvents } from 'bullmq';
import { createDatabase, createQueue, createRedis, databaseLogin, migrateToLatest, scramVerifier } from '@hexa/kit';
import {
  createServiceSchema,
  dropSchema,
  dropWorkspaceClusterObjects,
  flushRedisPrefix,
  serviceKeyEnv,
  testEncryptionKey,
  testRedisUrl,
  testWorkspaceClusterAdminUrl,
  testWorkspaceClusterSuperuserUrl,
  uniqueQueuePrefix,
  uniqueWorkspaceDatabasePrefix,
} from '@hexa/testing';
import { createDatabasesWorker, databaseNamesFor, databasesMigrations, ensureClusterAdmin, generatePassword, loadDatabasesConfig, type DatabasesDatabase } from '@hexa/databases';
import { createRotationsService } from '../services/databases/src/modules/rotations/rotations-service.js';
import { createSecrets } from '../services/databases/src/modules/secrets/secrets.js';

const iterations = Number(process.env.BENCH_ITERATIONS ?? 10);
const batch = Number(process.env.BENCH_BATCH ?? 50);

const admin = databaseLogin(testWorkspaceClusterAdminUrl);
const cluster = new URL(testWorkspaceClusterAdminUrl);
await ensureClusterAdmin({ superuserUrl: testWorkspaceClusterSuperuserUrl, role: admin.role, password: admin.password });
const schema = await createServiceSchema('databases');
const prefix = uniqueWorkspaceDatabasePrefix();
const floorPrefix = uniqueWorkspaceDatabasePrefix();
const queuePrefix = uniqueQueuePrefix();
const config = loadDatabasesConfig({
  ...serviceKeyEnv('databases'),
  DATABASE_URL: schema.url,
  DATABASE_SCHEMA: schema.schema,
  REDIS_URL: testRedisUrl,
  HEXA_QUEUE_PREFIX: queuePrefix,
  HEXA_WORKSPACE_DB_ADMIN_URL: testWorkspaceClusterAdminUrl,
  HEXA_WORKSPACE_DB_PREFIX: prefix,
  HEXA_DATABASE_ENCRYPTION_KEY: testEncryptionKey(),
  LOG_LEVEL: 'warn',
});
const db = createDatabase<DatabasesDatabase>({ url: schema.url, schema: schema.schema });
await migrateToLatest(db, schema.schema, databasesMigrations);
const worker = createDatabasesWorker({ config, log: pino({ level: 'warn' }) });
await worker.start();
const redis = createRedis(testRedisUrl);
const queue = createQueue('databases', { connection: redis, prefix: queuePrefix });
const events = new QueueEvents('databases', { connection: { url: testRedisUrl } as never, prefix: queuePrefix });
await events.waitUntilReady();
// Every job of a batch waits on the same emitters.
queue.setMaxListeners(batch * 2 + 10);
events.setMaxListeners(batch * 2 + 10);

/** Runs a psql script (on its standard input, so no password is on a command line) as the admin login; rejects on failure. */
function psql(script: string, login: { user: string; password: string; database: string } = { user: admin.role, password: admin.password, database: 'postgres' }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', cluster.hostname, '-p', cluster.port || '5432', '-U', login.user, '-d', login.database], {
      env: { PATH: process.env.PATH, PGPASSWORD: login.password },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql: ${stderr}`))));
    child.stdin.end(script);
  });
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The statements the worker sends for one workspace, in one psql session (autocommit, as the worker sends
 * them): the cluster-wide ones, `\connect` to the new database for the grants, `\connect` as the owner to
 * check its login. The floor.
 */
async function floorOnce(): Promise<number> {
  const names = databaseNamesFor(floorPrefix, randomUUID());
  const owner = generatePassword();
  const reader = generatePassword();
  const [database, ownerRole, readerRole] = [quote(names.database), quote(names.owner), quote(names.reader)];
  const conninfo = (user: string, password: string) => `"host=${cluster.hostname} port=${cluster.port || '5432'} dbname=${names.database} user=${user} password=${password}"`;
  const started = performance.now();
  await psql(
    [
      `create role ${ownerRole} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password '${scramVerifier(owner)}';`,
      `grant ${ownerRole} to ${quote(admin.role)};`,
      `create role ${readerRole} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password '${scramVerifier(reader)}';`,
      `grant ${readerRole} to ${quote(admin.role)};`,
      `create database ${database} template template0 encoding 'UTF8';`,
      `alter database ${database} connection limit ${config.WORKSPACE_DB_CONNECTION_LIMIT};`,
      `alter database ${database} set statement_timeout = ${config.WORKSPACE_DB_STATEMENT_TIMEOUT_MS};`,
      `alter database ${database} set idle_in_transaction_session_timeout = ${config.WORKSPACE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS};`,
      `revoke all on database ${database} from public;`,
      `grant connect, temporary on database ${database} to ${ownerRole};`,
      `grant connect on database ${database} to ${readerRole};`,
      `alter role ${readerRole} in database ${database} set default_transaction_read_only = on;`,
      `\\connect ${conninfo(admin.role, admin.password)}`,
      `alter schema public owner to ${ownerRole};`,
      'revoke all on schema public from public;',
      `grant usage on schema public to ${readerRole};`,
      `grant select on all tables in schema public to ${readerRole};`,
      `alter default privileges for role ${ownerRole} in schema public grant select on tables to ${readerRole};`,
      `\\connect ${conninfo(names.owner, owner)}`,
      'select 1;',
      '',
    ].join('\n'),
  );
  return performance.now() - started;
}

/** One workspace through the service: from its job in the queue to the job done (database ready). */
async function oursOnce(): Promise<number> {
  const workspaceId = randomUUID();
  const started = performance.now();
  const job = await queue.add('workspace.created', { workspaceId, slug: `bench-${workspaceId.slice(0, 8)}`, createdBy: randomUUID() }, { jobId: `workspace.created-${workspaceId}` });
  await job.waitUntilFinished(events);
  return performance.now() - started;
}

/** Runs `count` tasks with at most `concurrency` at once; resolves with the outcomes. */
async function pooled<T>(count: number, concurrency: number, task: () => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        results.push(...(await Promise.allSettled([task()])));
      }
    }),
  );
  return results;
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: Math.round(at(0.5)), p95: Math.round(at(0.95)), min: Math.round(sorted[0]!), max: Math.round(sorted[sorted.length - 1]!) };
};

try {
  // Warm-up: first connections, first CREATE DATABASE of the run.
  await floorOnce();
  await oursOnce();

  const single = { ours: [] as number[], floor: [] as number[] };
  for (let index = 0; index < iterations; index += 1) {
    // Alternated, so that a slower moment of the machine weighs on both.
    if (index % 2 === 0) {
      single.ours.push(await oursOnce());
      single.floor.push(await floorOnce());
    } else {
      single.floor.push(await floorOnce());
      single.ours.push(await oursOnce());
    }
  }

  const oursBatchStarted = performance.now();
  const oursBatch = await Promise.allSettled(Array.from({ length: batch }, () => oursOnce()));
  const oursBatchMs = performance.now() - oursBatchStarted;
  const floorBatchStarted = performance.now();
  const floorBatch = await pooled(batch, config.WORKER_CONCURRENCY, floorOnce);
  const floorBatchMs = performance.now() - floorBatchStarted;
  const ready = await db.selectFrom('workspace_databases').select((eb) => eb.fn.countAll<string>().as('count')).where('status', '=', 'ready').executeTakeFirstOrThrow();

  // A rotation: from the request (committed with its job in the outbox) to the old password refused.
  const [row] = await db.selectFrom('workspace_databases').selectAll().where('status', '=', 'ready').limit(1).execute();
  const secrets = createSecrets(config.HEXA_DATABASE_ENCRYPTION_KEY);
  const old = secrets.open(row!.owner_password, { workspaceId: row!.workspace_id, login: 'owner' });
  const rotations = createRotationsService({ db, secrets, log: pino({ level: 'warn' }) });
  const rotationStarted = performance.now();
  await rotations.request({ kind: 'user', userId: randomUUID(), organizationRole: 'OWNER', adminSomewhere: true }, row!.slug);
  let rotationMs = Number.NaN;
  for (let tries = 0; tries < 500; tries += 1) {
    const refused = await psql('select 1;', { user: row!.owner_role, password: old, database: row!.database_name }).then(() => false, () => true);
    if (refused) {
      rotationMs = performance.now() - rotationStarted;
      break;
    }
  }

  const one = { ours: stats(single.ours), floor: stats(single.floor) };
  console.log(
    JSON.stringify(
      {
        machine: { cpus: (await import('node:os')).cpus().length, workerConcurrency: config.WORKER_CONCURRENCY, outboxRelayIntervalMs: config.OUTBOX_RELAY_INTERVAL_MS },
        oneWorkspace: {
          iterations,
          oursMs: one.ours,
          floorMs: one.floor,
          ratioOfMedians: Number((one.ours.median / one.floor.median).toFixed(2)),
          targetMs: Math.round(1.5 * one.floor.median + 50),
          meetsTarget: one.ours.median <= 1.5 * one.floor.median + 50,
        },
        atOnce: {
          workspaces: batch,
          oursAllReadyMs: Math.round(oursBatchMs),
          oursFailed: oursBatch.filter((result) => result.status === 'rejected').length,
          floorAllDoneMs: Math.round(floorBatchMs),
          floorFailed: floorBatch.filter((result) => result.status === 'rejected').length,
          ratio: Number((oursBatchMs / floorBatchMs).toFixed(2)),
          readyInService: Number(ready.count),
        },
        rotation: { requestToOldPasswordRefusedMs: Math.round(rotationMs), meetsTarget: rotationMs < 1000 },
      },
      null,
      2,
    ),
  );
} finally {
  await worker.close();
  await events.close();
  await queue.close();
  redis.disconnect();
  await db.destroy();
  await flushRedisPrefix(queuePrefix);
  await dropSchema(schema.schema);
  await dropWorkspaceClusterObjects(prefix);
  await dropWorkspaceClusterObjects(floorPrefix);
}
