import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import pino from 'pino';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { createDatabase, createOutboxRelay, createRedis, createWorker, databaseLogin } from '@hexa/kit';
import { eventually, testDatabaseUrl, testRedisUrl, testWorkspaceClusterAdminUrl, testWorkspaceClusterSuperuserUrl } from '@hexa/testing';
import { createDatabasesWorker, ensureClusterAdmin, type DatabasesWorker } from '@hexa/databases';
import { createRunnerWorker, type RunnerConfig, type RunnerWorker } from '@hexa/runner';
import { createAuditService, createMemberRolesService, createProvisioningService, workspacesProcessors, type WorkspacesDatabase } from '@hexa/workspaces';
import { ownerLogin, startStack, type Stack } from './stack.js';

// The runner and the files service share one HEXA_FILES_DIR, as `npm start` has them: what a run writes in
// /home/hexa/workspace (as uid 1000 in its container) is what the workspace's files API lists, serves,
// moves and deletes.
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The uid a run has in its container (the base image's user). */
const runUid = 1000;

let stack: Stack;
let workspacesDb: Kysely<WorkspacesDatabase>;
let redis: Redis[];
let relay: ReturnType<typeof createOutboxRelay<WorkspacesDatabase>>;
let workspacesWorker: ReturnType<typeof createWorker>;
let databasesWorker: DatabasesWorker;
let runner: RunnerWorker;
let runnerConfig: RunnerConfig;
let token: string;
let workspace: { slug: string; id: string };

beforeAll(async () => {
  const built = spawnSync('bash', [join(root, 'scripts/lib/ensure.sh'), 'ensure_runner_images'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`ensure_runner_images failed: ${built.stderr}`);
  const admin = databaseLogin(testWorkspaceClusterAdminUrl);
  await ensureClusterAdmin({ superuserUrl: testWorkspaceClusterSuperuserUrl, role: admin.role, password: admin.password });
  stack = await startStack({ databasesEnv: { OUTBOX_RELAY_INTERVAL_MS: '100' } });
  // Containers call the gateway over the Docker bridge: it listens on every interface, as `npm start`'s does.
  await stack.gateway.listen({ host: '0.0.0.0', port: 0 });
  const gatewayPort = (stack.gateway.server.address() as { port: number }).port;
  runnerConfig = {
    ...stack.runnerConfig,
    // The very folder the files service keeps the workspaces' files in.
    HEXA_FILES_DIR: stack.filesConfig.HEXA_FILES_DIR,
    HEXA_SERVER_URL: `http://host.docker.internal:${gatewayPort}`,
    RUN_SCHEDULE_INTERVAL_MS: 200,
    OUTBOX_RELAY_INTERVAL_MS: 50,
  };
  // A workspace is ready (its database provisioned) before it runs anything.
  workspacesDb = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
  redis = [createRedis(testRedisUrl), createRedis(testRedisUrl, 'worker')];
  relay = createOutboxRelay({ db: workspacesDb, redis: redis[0]!, prefix: stack.queuePrefix });
  relay.relay.start(100);
  workspacesWorker = createWorker(
    'workspaces',
    workspacesProcessors({ audit: createAuditService({ db: workspacesDb }), provisioning: createProvisioningService({ db: workspacesDb }), memberRoles: createMemberRolesService({ db: workspacesDb }) }),
    { connection: redis[1]!, prefix: stack.queuePrefix },
  );
  databasesWorker = createDatabasesWorker({ config: stack.databasesConfig, log: pino({ level: 'silent' }) });
  await databasesWorker.start();
  runner = createRunnerWorker({ config: runnerConfig, log: pino({ level: 'silent' }) });
  await runner.start();

  token = await stack.login(ownerLogin.email, ownerLogin.password);
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Runs Write Files' } });
  expect(created.statusCode).toBe(201);
  workspace = created.json<{ slug: string; id: string }>();
  await eventually(async () => ((await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}`, token })).json().status === 'ready' ? true : undefined), 30_000, 100);
}, 180_000);

afterAll(async () => {
  await runner.close();
  await databasesWorker.close();
  await workspacesWorker.close();
  await relay.close();
  for (const connection of redis) connection.disconnect();
  await workspacesDb.destroy();
  for (const container of await docker.listContainers({ all: true, filters: { label: [`hexa.instance=${runnerConfig.HEXA_RUNNER_INSTANCE}`] } })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await stack.close();
}, 60_000);

const url = (rest: string) => `/api/workspaces/${workspace.slug}${rest}`;

describe('when a run writes files into /home/hexa/workspace', () => {
  let runId: string;

  beforeAll(async () => {
    const pipeline = await stack.call({
      method: 'POST',
      url: url('/pipelines'),
      token,
      payload: {
        code: 'write-files',
        name: 'Write files',
        command: ['sh', '-c', 'mkdir -p output/tables && printf "district,cases\\nBobo,12\\n" > output/tables/cases.csv && id -u > output/who.txt'],
        timeoutSeconds: 60,
      },
    });
    expect(pipeline.statusCode).toBe(201);
    const launched = await stack.call({ method: 'POST', url: url('/pipelines/write-files/runs'), token, payload: {} });
    expect(launched.statusCode).toBe(202);
    runId = launched.json<{ id: string }>().id;
    const ended = await eventually(async () => {
      const run = (await stack.call({ method: 'GET', url: url(`/runs/${runId}`), token })).json<{ status: string }>();
      return ['succeeded', 'failed', 'canceled'].includes(run.status) ? run : undefined;
    }, 60_000, 200);
    expect(ended).toMatchObject({ status: 'succeeded' });
  }, 90_000);

  it('lists them, each with its size and type, and they belong to the run’s uid on disk', async () => {
    const listing = await stack.call({ method: 'GET', url: url('/files?prefix=output'), token });
    expect(listing.statusCode).toBe(200);
    expect(listing.json().items).toEqual([
      expect.objectContaining({ name: 'tables', path: 'output/tables', type: 'folder' }),
      expect.objectContaining({ name: 'who.txt', path: 'output/who.txt', type: 'file', size: 5, contentType: 'text/plain' }),
    ]);
    const folder = join(stack.filesConfig.HEXA_FILES_DIR, workspace.id);
    expect(statSync(join(folder, 'output', 'tables', 'cases.csv')).uid).toBe(runUid);
    expect(statSync(join(folder, 'output', 'tables')).uid).toBe(runUid);
  });

  it('serves one for download', async () => {
    const download = await stack.call({ method: 'GET', url: url('/files/output/tables/cases.csv'), token });
    expect(download.statusCode).toBe(200);
    expect(download.body).toBe('district,cases\nBobo,12\n');
    expect(download.headers['content-type']).toMatch(/^text\/csv/);
    expect((await stack.call({ method: 'GET', url: url('/files/output/who.txt'), token })).body).toBe(`${runUid}\n`);
  });

  it('moves one out of the folder the run made, then deletes it, and deletes that folder with all it holds', async () => {
    const moved = await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'output/tables/cases.csv', to: 'reports/cases-2026.csv' } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ path: 'reports/cases-2026.csv', size: 23 });
    expect((await stack.call({ method: 'GET', url: url('/files/reports/cases-2026.csv'), token })).body).toBe('district,cases\nBobo,12\n');
    expect((await stack.call({ method: 'DELETE', url: url('/files/reports/cases-2026.csv'), token })).statusCode).toBe(204);
    expect((await stack.call({ method: 'DELETE', url: url('/files/output/tables'), token })).statusCode).toBe(204);
    expect((await stack.call({ method: 'DELETE', url: url('/files/output?recursive=true'), token })).statusCode).toBe(204);
    const folder = join(stack.filesConfig.HEXA_FILES_DIR, workspace.id);
    expect(existsSync(join(folder, 'output'))).toBe(false);
    expect((await stack.call({ method: 'GET', url: url('/files'), token })).json().items).toEqual([expect.objectContaining({ name: 'reports', type: 'folder' })]);
  });
});

describe('when a run changes what came through the API', () => {
  const upload = (path: string, body: string) =>
    stack.call({ method: 'PUT', url: url(`/files/${path}`), token, payload: Buffer.from(body), headers: { 'content-type': 'application/octet-stream' } });

  beforeAll(async () => {
    // An uploaded file in a folder the upload made, one to be replaced, one to be deleted, a folder made by
    // the API, and a folder made by a move: none of them was made by the run.
    expect((await upload('inputs/cases.csv', 'district,cases\n')).statusCode).toBe(201);
    expect((await upload('inputs/old.txt', 'old')).statusCode).toBe(201);
    expect((await upload('inputs/gone.txt', 'to delete')).statusCode).toBe(201);
    expect((await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: 'results/2026' } })).statusCode).toBe(201);
    expect((await upload('notes.txt', 'notes')).statusCode).toBe(201);
    expect((await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'notes.txt', to: 'archive/notes/notes.txt' } })).statusCode).toBe(200);

    const pipeline = await stack.call({
      method: 'POST',
      url: url('/pipelines'),
      token,
      payload: {
        code: 'change-uploads',
        name: 'Change uploads',
        command: [
          'sh',
          '-c',
          'set -e; printf "Bobo,12\\n" >> inputs/cases.csv; printf new > inputs/old.txt; rm inputs/gone.txt; printf done > inputs/summary.txt; printf 2026 > results/2026/report.txt; printf more >> archive/notes/notes.txt; printf made > archive/notes/beside.txt',
        ],
        timeoutSeconds: 60,
      },
    });
    expect(pipeline.statusCode).toBe(201);
    const launched = await stack.call({ method: 'POST', url: url('/pipelines/change-uploads/runs'), token, payload: {} });
    expect(launched.statusCode).toBe(202);
    const runId = launched.json<{ id: string }>().id;
    const ended = await eventually(async () => {
      const run = (await stack.call({ method: 'GET', url: url(`/runs/${runId}`), token })).json<{ status: string }>();
      return ['succeeded', 'failed', 'canceled'].includes(run.status) ? run : undefined;
    }, 60_000, 200);
    const logs = await stack.call({ method: 'GET', url: url(`/runs/${runId}/logs`), token });
    expect({ ...ended, logs: logs.body }).toMatchObject({ status: 'succeeded' });
  }, 90_000);

  it('appends to, replaces and deletes uploaded files, and writes in folders the API made', async () => {
    const download = async (path: string) => (await stack.call({ method: 'GET', url: url(`/files/${path}`), token })).body;
    expect(await download('inputs/cases.csv')).toBe('district,cases\nBobo,12\n');
    expect(await download('inputs/old.txt')).toBe('new');
    expect(await download('inputs/summary.txt')).toBe('done');
    expect(await download('results/2026/report.txt')).toBe('2026');
    expect(await download('archive/notes/notes.txt')).toBe('notesmore');
    expect(await download('archive/notes/beside.txt')).toBe('made');
    expect((await stack.call({ method: 'GET', url: url('/files/inputs/gone.txt'), token })).statusCode).toBe(404);
  });

  it('finds what the API made on disk owned by the run’s uid', () => {
    const folder = join(stack.filesConfig.HEXA_FILES_DIR, workspace.id);
    for (const path of ['inputs', 'results', 'results/2026', 'archive', 'archive/notes', 'archive/notes/notes.txt']) {
      expect({ path, uid: statSync(join(folder, path)).uid }).toEqual({ path, uid: runUid });
    }
  });
});
