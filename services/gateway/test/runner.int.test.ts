import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import pino from 'pino';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { createDatabase, createOutboxRelay, createRedis, createWorker, databaseLogin } from '@hexa/kit';
import { eventually, query, testDatabaseUrl, testRedisUrl, testWorkspaceClusterAdminUrl, testWorkspaceClusterSuperuserUrl } from '@hexa/testing';
import { createDatabasesWorker, ensureClusterAdmin, type DatabasesWorker } from '@hexa/databases';
import { createRunnerWorker, runnerConfigEnv, type RunnerConfig, type RunnerWorker } from '@hexa/runner';
import { createAuditService, createMemberRolesService, createProvisioningService, workspacesProcessors, type WorkspacesDatabase } from '@hexa/workspaces';
import { ownerLogin, startStack, type Stack } from './stack.js';

// Runs through the gateway, on the real Docker engine: the workspace's own image, the environment a run
// gets (masked in its stored output), its token, cancel, time and memory limits, a missing image,
// archive, the per-workspace concurrency limit, a worker killed mid-run and what a restarted worker finds,
// pipelines' CRUD, the log's byte limit, and logs followed live over HTTP. The services' own logs are
// kept: no secret of a run may appear in them.
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const root = fileURLToPath(new URL('../../../', import.meta.url));
const baseImage = 'hexa/base-environment:latest';
const customImage = `hexa/test-workspace:${process.pid}-${Date.now()}`;
const marker = `marker-${process.pid}-${Date.now()}`;

let stack: Stack;
let workspacesDb: Kysely<WorkspacesDatabase>;
let redis: Redis[];
let relay: ReturnType<typeof createOutboxRelay<WorkspacesDatabase>>;
let workspacesWorker: ReturnType<typeof createWorker>;
let databasesWorker: DatabasesWorker;
let runner: RunnerWorker | undefined;
let runnerConfig: RunnerConfig;
let filesDir: string;
let gatewayPort: number;
/** The log lines of the gateway, the runner service and the runner worker (at `info`). */
const logged: string[] = [];
const logSink = { write: (line: string) => void logged.push(line) };
/** Maxima lower than the defaults (pipelines' memory default above it): launches must hold a pipeline to them. */
const maxMemoryMb = 512;
const tokens: Record<'owner' | 'viewer' | 'editor' | 'admin', string> = { owner: '', viewer: '', editor: '', admin: '' };
const workspaces = { a: { slug: '', id: '' }, b: { slug: '', id: '' } };

interface Run {
  id: string;
  pipelineCode: string;
  status: string;
  exitCode: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  reason: string | null;
  imageDigest: string | null;
  image: string;
  canCancel: boolean;
}

async function createReadyWorkspace(name: string): Promise<{ slug: string; id: string }> {
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: tokens.owner, payload: { name } });
  expect(created.statusCode).toBe(201);
  const { slug, id } = created.json<{ slug: string; id: string }>();
  await eventually(async () => ((await stack.call({ method: 'GET', url: `/api/workspaces/${slug}`, token: tokens.owner })).json().status === 'ready' ? true : undefined), 30_000, 100);
  return { slug, id };
}

function startRunner(settings: Partial<RunnerConfig> = {}): Promise<RunnerWorker> {
  const worker = createRunnerWorker({ config: { ...runnerConfig, ...settings }, log: pino({ level: 'info' }, logSink) });
  return worker.start().then(() => worker);
}

async function pipeline(slug: string, body: Record<string, unknown>, as: keyof typeof tokens = 'editor'): Promise<void> {
  const answer = await stack.call({ method: 'POST', url: `/api/workspaces/${slug}/pipelines`, token: tokens[as], payload: body });
  expect(answer.statusCode).toBe(201);
}

async function launch(slug: string, code: string, as: keyof typeof tokens, parameters?: Record<string, unknown>): Promise<Run> {
  const answer = await stack.call({ method: 'POST', url: `/api/workspaces/${slug}/pipelines/${code}/runs`, token: tokens[as], payload: parameters ? { parameters } : {} });
  expect(answer.statusCode).toBe(202);
  expect(answer.json()).toMatchObject({ status: 'queued' });
  return answer.json<Run>();
}

async function getRun(slug: string, id: string, as: keyof typeof tokens = 'owner'): Promise<Run> {
  const answer = await stack.call({ method: 'GET', url: `/api/workspaces/${slug}/runs/${id}`, token: tokens[as] });
  expect(answer.statusCode).toBe(200);
  return answer.json<Run>();
}

async function until(slug: string, id: string, statuses: string[], timeoutMs = 20_000): Promise<Run> {
  return eventually(async () => {
    const run = await getRun(slug, id);
    return statuses.includes(run.status) ? run : undefined;
  }, timeoutMs, 100);
}

async function logsOf(slug: string, id: string): Promise<{ text: string; truncated: boolean }> {
  const answer = await stack.call({ method: 'GET', url: `/api/workspaces/${slug}/runs/${id}/logs`, token: tokens.viewer });
  expect(answer.statusCode).toBe(200);
  return answer.json();
}

/** Replaces the running worker by one with other settings (none: the test's own). */
async function restartRunner(settings: Partial<RunnerConfig> = {}): Promise<void> {
  await runner?.close();
  runner = undefined;
  runner = await startRunner(settings);
}

async function cancel(slug: string, id: string, as: keyof typeof tokens): Promise<{ statusCode: number; run: Run }> {
  const answer = await stack.call({ method: 'POST', url: `/api/workspaces/${slug}/runs/${id}/cancel`, token: tokens[as] });
  return { statusCode: answer.statusCode, run: answer.json<Run>() };
}

async function containersOfRun(id: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`hexa.run=${id}`] } });
}

beforeAll(async () => {
  const built = spawnSync('bash', [join(root, 'scripts/lib/ensure.sh'), 'ensure_runner_images'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`ensure_runner_images failed: ${built.stderr}`);
  // The workspace's own image: the base plus a marker file, built without any registry.
  const context = mkdtempSync(join(tmpdir(), 'hexa-image-'));
  writeFileSync(join(context, 'Dockerfile'), `FROM ${baseImage}\nUSER 0:0\nRUN echo ${marker} > /marker\nUSER 1000:1000\n`);
  const build = spawnSync('/usr/bin/docker', ['build', '-q', '-t', customImage, context], { encoding: 'utf8' });
  rmSync(context, { recursive: true, force: true });
  if (build.status !== 0) throw new Error(`docker build failed: ${build.stderr}`);

  const admin = databaseLogin(testWorkspaceClusterAdminUrl);
  await ensureClusterAdmin({ superuserUrl: testWorkspaceClusterSuperuserUrl, role: admin.role, password: admin.password });
  filesDir = mkdtempSync(join(tmpdir(), 'hexa-files-'));
  // The run token cache keeps its default lifetime: a run's end must drop its token at once all the same.
  stack = await startStack({
    databasesEnv: { OUTBOX_RELAY_INTERVAL_MS: '100' },
    env: { LOG_LEVEL: 'info' },
    logDestination: logSink,
    runnerEnv: { LOG_LEVEL: 'info', RUN_MAX_MEMORY_MB: String(maxMemoryMb), RUN_MAX_CPUS: '1' },
    runnerLogDestination: logSink,
  });
  // Containers call the gateway over the Docker bridge: it listens on every interface, as `npm start`'s does.
  await stack.gateway.listen({ host: '0.0.0.0', port: 0 });
  gatewayPort = (stack.gateway.server.address() as { port: number }).port;
  runnerConfig = {
    ...stack.runnerConfig,
    HEXA_FILES_DIR: filesDir,
    HEXA_SERVER_URL: `http://host.docker.internal:${gatewayPort}`,
    RUN_CONCURRENCY_PER_WORKSPACE: 2,
    RUN_IMAGE_PULL_TIMEOUT_MS: 10_000,
    RUN_STOP_GRACE_SECONDS: 1,
    RUN_SCHEDULE_INTERVAL_MS: 200,
    OUTBOX_RELAY_INTERVAL_MS: 50,
  };
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
  runner = await startRunner();

  tokens.owner = await stack.login(ownerLogin.email, ownerLogin.password);
  workspaces.a = await createReadyWorkspace('Runs A');
  workspaces.b = await createReadyWorkspace('Runs B');
  for (const role of ['viewer', 'editor', 'admin'] as const) {
    const user = await stack.createUser(`${role}@example.org`, 'MEMBER');
    tokens[role] = user.token;
    await query(`insert into "${stack.schemas.membership}".workspace_memberships (workspace_slug, workspace_id, user_id, role) values ($1, $2, $3, $4)`, [workspaces.a.slug, workspaces.a.id, user.id, role.toUpperCase()]);
  }
  const image = await stack.call({ method: 'PATCH', url: `/api/workspaces/${workspaces.a.slug}`, token: tokens.owner, payload: { dockerImage: customImage } });
  expect(image.statusCode).toBe(200);
  const configuration = await stack.call({ method: 'PUT', url: `/api/workspaces/${workspaces.a.slug}/configuration/greeting`, token: tokens.owner, payload: { value: 'hello' } });
  expect(configuration.statusCode).toBe(200);
}, 180_000);

afterAll(async () => {
  await runner?.close();
  await databasesWorker.close();
  await workspacesWorker.close();
  await relay.close();
  for (const connection of redis) connection.disconnect();
  await workspacesDb.destroy();
  // Nothing of this test may be left on the engine.
  for (const container of await docker.listContainers({ all: true, filters: { label: [`hexa.instance=${runnerConfig.HEXA_RUNNER_INSTANCE}`] } })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await stack.close();
  await docker.getImage(customImage).remove({ force: true }).catch(() => undefined);
  spawnSync('rm', ['-rf', filesDir]);
}, 60_000);

describe('when a Viewer launches a pipeline that prints its environment', () => {
  let run: Run;
  let text: string;
  let credentials: { dbName: string; username: string; password: string };

  const warehousePassword = 'warehouse-secret-4711';
  // A service account key as Google hands it out: pretty-printed JSON, one secret over many lines.
  const serviceAccountKey = JSON.stringify(
    {
      type: 'service_account',
      project_id: 'hexa-test-project',
      private_key_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretsecret\n-----END PRIVATE KEY-----\n',
      client_email: 'runner@hexa-test-project.iam.gserviceaccount.com',
    },
    null,
    2,
  );
  const keyLines = serviceAccountKey.split('\n').map((line) => line.trim()).filter((line) => line.length >= 8);

  beforeAll(async () => {
    // A connection of the workspace (Admins manage them): each field becomes <SLUG>_<FIELD_CODE> in runs.
    const connection = await stack.call({
      method: 'POST',
      url: `/api/workspaces/${workspaces.a.slug}/connections`,
      token: tokens.admin,
      payload: {
        name: 'Warehouse',
        type: 'POSTGRESQL',
        fields: [
          { code: 'host', value: 'warehouse.example.org', secret: false },
          { code: 'port', value: '5432', secret: false },
          { code: 'dbName', value: 'analytics', secret: false },
          { code: 'username', value: 'analyst', secret: false },
          { code: 'password', value: warehousePassword, secret: true },
        ],
      },
    });
    expect(connection.statusCode).toBe(201);
    const key = await stack.call({
      method: 'POST',
      url: `/api/workspaces/${workspaces.a.slug}/connections`,
      token: tokens.admin,
      payload: { name: 'Cloud Key', type: 'GCS', fields: [{ code: 'bucketName', value: 'hexa-bucket', secret: false }, { code: 'serviceAccountKey', value: serviceAccountKey, secret: true }] },
    });
    expect(key.statusCode).toBe(201);
    await pipeline(workspaces.a.slug, {
      code: 'print-env',
      name: 'Print the environment',
      command: [
        'sh',
        '-c',
        [
          'echo "$HEXA_TOKEN" > /home/hexa/workspace/print-env-token',
          'cat /marker; env | sort',
          'echo "password again: $WORKSPACE_DATABASE_PASSWORD"; echo "token again: $HEXA_TOKEN"',
          'echo "password sha256: $(printf %s "$WORKSPACE_DATABASE_PASSWORD" | sha256sum | cut -d " " -f 1)"',
          // The key a line at a time, slower than the output is stored: its lines reach the log in separate writes.
          'echo "key:"; printf \'%s\\n\' "$CLOUD_KEY_SERVICE_ACCOUNT_KEY" | while IFS= read -r line; do printf \'%s\\n\' "$line"; sleep 0.1; done',
          'id -u; pwd',
        ].join('\n'),
      ],
      timeoutSeconds: 60,
    });
    const launched = await launch(workspaces.a.slug, 'print-env', 'viewer', { n: 3, country: 'BF' });
    run = await until(workspaces.a.slug, launched.id, ['succeeded', 'failed']);
    text = (await logsOf(workspaces.a.slug, run.id)).text;
    const answer = await stack.call({ method: 'GET', url: `/api/workspaces/${workspaces.a.slug}/database/credentials`, token: tokens.editor });
    credentials = answer.json();
  }, 60_000);

  it('runs in the workspace\'s own image, recorded with its digest, and succeeds', async () => {
    expect(run).toMatchObject({ status: 'succeeded', exitCode: 0, reason: null, image: customImage });
    expect(run.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const inspected = await docker.getImage(customImage).inspect();
    expect(run.imageDigest).toBe(inspected.Id);
    expect(text).toContain(marker);
  });

  it('gives the run OpenHEXA\'s variables with the right values', () => {
    expect(text).toContain(`HEXA_WORKSPACE=${workspaces.a.slug}\n`);
    expect(text).toContain(`HEXA_RUN_ID=${run.id}\n`);
    expect(text).toContain('HEXA_PIPELINE_CODE=print-env\n');
    expect(text).toContain(`HEXA_SERVER_URL=${runnerConfig.HEXA_SERVER_URL}\n`);
    expect(text).toContain('HEXA_CONFIG={"greeting":"hello"}\n');
    expect(text).toContain('HEXA_PARAMETERS={"n":3,"country":"BF"}\n');
    expect(text).toContain(`WORKSPACE_DATABASE_DB_NAME=${credentials.dbName}\n`);
    expect(text).toContain(`WORKSPACE_DATABASE_USERNAME=${credentials.username}\n`);
    expect(text).toMatch(/WORKSPACE_DATABASE_HOST=host\.docker\.internal\n/);
    expect(text).toMatch(/WORKSPACE_DATABASE_PORT=\d+\n/);
    expect(text).toContain(`WORKSPACE_DATABASE_URL=postgresql://${credentials.username}:*****@host.docker.internal:`);
    // As the unprivileged user, in the workspace's files folder.
    expect(text).toMatch(/\n1000\n\/home\/hexa\/workspace\n$/);
  });

  it("gives the run the workspace's connections as <SLUG>_<FIELD_CODE>, and masks their secret values", () => {
    expect(text).toContain('WAREHOUSE_HOST=warehouse.example.org\n');
    expect(text).toContain('WAREHOUSE_DB_NAME=analytics\n');
    expect(text).toContain('WAREHOUSE_USERNAME=analyst\n');
    expect(text).toContain('WAREHOUSE_PASSWORD=*****\n');
    expect(text).not.toContain(warehousePassword);
  });

  it('masks a secret of several lines (a service account key) line by line, however its lines were stored', () => {
    expect(text).toContain('CLOUD_KEY_BUCKET_NAME=hexa-bucket\n');
    expect(text).toContain('CLOUD_KEY_SERVICE_ACCOUNT_KEY={\n');
    expect(text).toContain('key:\n{\n  *****\n  *****\n');
    for (const line of keyLines) expect(text).not.toContain(line);
    expect(text).not.toContain('secretsecret');
  });

  it('gives the run the very password of the workspace database', () => {
    // The run prints the password's SHA-256 (the password itself is masked): it must be the API's.
    expect(text).toContain(`password sha256: ${createHash('sha256').update(credentials.password).digest('hex')}\n`);
  });

  it("writes none of the run's secrets into the gateway's or the runner's logs", () => {
    const token = readFileSync(join(filesDir, workspaces.a.id, 'print-env-token'), 'utf8').trim();
    expect(token).toMatch(/^hexa_run_/);
    const all = logged.join('');
    // The logs are there (else this proves nothing): the gateway's requests and the worker's end of this run.
    expect(all).toContain(`/api/workspaces/${workspaces.a.slug}/pipelines/print-env/runs`);
    expect(all).toContain(run.id);
    for (const secret of [credentials.password, token, warehousePassword, 'secretsecret', ...keyLines]) expect(all).not.toContain(secret);
  });

  it('masks the database password and the run token in the stored output', () => {
    expect(text).toContain('WORKSPACE_DATABASE_PASSWORD=*****\n');
    expect(text).toContain('HEXA_TOKEN=*****\n');
    expect(text).toContain('password again: *****\n');
    expect(text).toContain('token again: *****\n');
    expect(text).not.toContain(credentials.password);
    expect(text).not.toMatch(/hexa_run_[A-Za-z0-9_-]{20}/);
  });

  it('removes the container once the run ended, and audits the launch', async () => {
    expect(await containersOfRun(run.id)).toEqual([]);
    const audit = await eventually(async () => {
      const answer = await stack.call({ method: 'GET', url: `/api/workspaces/${workspaces.a.slug}/audit`, token: tokens.admin });
      const items = answer.json<{ items: { action: string; target?: string }[] }>().items;
      return items.some((item) => item.action === 'run.launched' && item.target === run.id) ? items : undefined;
    }, 10_000);
    expect(audit.some((item) => item.action === 'run.launched')).toBe(true);
  });
});

describe('when the configuration changes between two runs', () => {
  it('the next run sees the new values', async () => {
    await pipeline(workspaces.a.slug, { code: 'print-config', name: 'Print the configuration', command: ['sh', '-c', 'echo "$HEXA_CONFIG"'] });
    const put = await stack.call({ method: 'PUT', url: `/api/workspaces/${workspaces.a.slug}/configuration/greeting`, token: tokens.owner, payload: { value: 'bonjour' } });
    expect(put.statusCode).toBe(200);
    const run = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'print-config', 'viewer')).id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    expect((await logsOf(workspaces.a.slug, run.id)).text).toBe('{"greeting":"bonjour"}\n');
  }, 30_000);
});

describe('when a run calls the platform with HEXA_TOKEN', () => {
  let run: Run;
  let text: string;

  beforeAll(async () => {
    await pipeline(workspaces.a.slug, {
      code: 'call-home',
      name: 'Call the platform',
      command: [
        'sh',
        '-c',
        [
          'echo "$HEXA_TOKEN" > /home/hexa/workspace/token',
          'auth="Authorization: Bearer $HEXA_TOKEN"',
          'echo "own: $(wget -q -O - --header "$auth" "$HEXA_SERVER_URL/api/workspaces/$HEXA_WORKSPACE")"',
          `echo "other: $(wget -q -O - --header "$auth" "$HEXA_SERVER_URL/api/workspaces/${workspaces.b.slug}" 2>&1)"`,
          'echo "list: $(wget -q -O - --header "$auth" "$HEXA_SERVER_URL/api/workspaces" 2>&1)"',
          'echo "me: $(wget -q -O - --header "$auth" "$HEXA_SERVER_URL/api/me")"',
        ].join('\n'),
      ],
    });
    run = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'call-home', 'viewer')).id, ['succeeded', 'failed']);
    text = (await logsOf(workspaces.a.slug, run.id)).text;
  }, 60_000);

  it('reads its own workspace as the person who launched it', () => {
    expect(run.status).toBe('succeeded');
    const own = /own: (.*)\n/.exec(text)?.[1] ?? '';
    expect(JSON.parse(own)).toMatchObject({ slug: workspaces.a.slug, role: 'VIEWER' });
    expect(JSON.parse(/me: (.*)\n/.exec(text)?.[1] ?? '{}')).toMatchObject({ email: 'viewer@example.org' });
  });

  it('cannot reach another workspace (as if it did not exist) nor anything outside its workspace', () => {
    expect(text).toContain('other: wget: server returned error: HTTP/1.1 404 Not Found\n');
    expect(text).toContain('list: wget: server returned error: HTTP/1.1 403 Forbidden\n');
  });

  it('writes into the workspace\'s files folder, and its token dies with the run (the gateway cached it a moment ago)', async () => {
    const token = readFileSync(join(filesDir, workspaces.a.id, 'token'), 'utf8').trim();
    expect(token).toMatch(/^hexa_run_/);
    const other = await stack.call({ method: 'GET', url: `/api/workspaces/${workspaces.b.slug}`, token });
    expect(other.statusCode).toBe(401);
    const own = await stack.call({ method: 'GET', url: `/api/workspaces/${workspaces.a.slug}`, token });
    expect(own.statusCode).toBe(401);
    expect(own.json()).toMatchObject({ code: 'invalid_token' });
  });
});

describe('when a run is canceled', () => {
  it('is refused to a Viewer who did not launch it; its launcher stops it within seconds; a second cancel is 409', async () => {
    await pipeline(workspaces.a.slug, { code: 'sleeper', name: 'Sleeps', command: ['sleep', '30'], memoryMb: 64, cpus: 0.5 });
    const byEditor = await launch(workspaces.a.slug, 'sleeper', 'editor');
    await until(workspaces.a.slug, byEditor.id, ['running']);
    const refused = await stack.call({ method: 'POST', url: `/api/workspaces/${workspaces.a.slug}/runs/${byEditor.id}/cancel`, token: tokens.viewer });
    expect(refused.statusCode).toBe(403);
    expect((await getRun(workspaces.a.slug, byEditor.id, 'viewer')).canCancel).toBe(false);

    // The container, as the engine runs it: unprivileged, limited, labelled.
    const [container] = await containersOfRun(byEditor.id);
    const info = await docker.getContainer(container!.Id).inspect();
    expect(info.HostConfig).toMatchObject({ Privileged: false, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, PidsLimit: 256 });
    expect(info.HostConfig.Binds).toEqual([`${join(filesDir, workspaces.a.id)}:/home/hexa/workspace`]);
    expect(info.Config.User).toBe('1000:1000');
    expect(info.HostConfig.NetworkMode).toBe(runnerConfig.RUN_NETWORK);
    expect(info.Config.Labels).toMatchObject({ 'hexa.workspace': workspaces.a.id, 'hexa.run': byEditor.id, 'hexa.instance': runnerConfig.HEXA_RUNNER_INSTANCE });

    const byViewer = await launch(workspaces.a.slug, 'sleeper', 'viewer');
    await until(workspaces.a.slug, byViewer.id, ['running']);
    const started = Date.now();
    const cancel = await stack.call({ method: 'POST', url: `/api/workspaces/${workspaces.a.slug}/runs/${byViewer.id}/cancel`, token: tokens.viewer });
    expect(cancel.statusCode).toBe(202);
    const canceled = await until(workspaces.a.slug, byViewer.id, ['canceled', 'failed', 'succeeded'], 10_000);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(canceled).toMatchObject({ status: 'canceled', reason: 'Canceled by a user' });
    const again = await stack.call({ method: 'POST', url: `/api/workspaces/${workspaces.a.slug}/runs/${byViewer.id}/cancel`, token: tokens.viewer });
    expect(again.statusCode).toBe(409);
    const byEditorCanceled = await stack.call({ method: 'POST', url: `/api/workspaces/${workspaces.a.slug}/runs/${byEditor.id}/cancel`, token: tokens.editor });
    expect(byEditorCanceled.statusCode).toBe(202);
    await until(workspaces.a.slug, byEditor.id, ['canceled'], 10_000);
    await eventually(async () => ((await containersOfRun(byViewer.id)).length === 0 ? true : undefined), 5000);
  }, 60_000);
});

describe('when a run outlives its time limit', () => {
  it('is killed and ends timed_out', async () => {
    await pipeline(workspaces.a.slug, { code: 'too-slow', name: 'Too slow', command: ['sleep', '30'], timeoutSeconds: 2 });
    const run = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'too-slow', 'viewer')).id, ['timed_out', 'failed', 'succeeded', 'canceled'], 15_000);
    expect(run).toMatchObject({ status: 'timed_out', reason: 'Stopped after its time limit of 2 s' });
  }, 30_000);
});

describe('when a run uses more memory than its limit', () => {
  it('is killed by the kernel and reported as such', async () => {
    await pipeline(workspaces.a.slug, {
      code: 'greedy',
      name: 'Greedy',
      command: ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo "survived ${#x}"'],
      memoryMb: 32,
    });
    const run = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'greedy', 'viewer')).id, ['failed', 'succeeded'], 30_000);
    expect(run).toMatchObject({ status: 'failed', reason: 'Killed: it used more than its memory limit of 32 MB' });
    expect((await logsOf(workspaces.a.slug, run.id)).text).not.toContain('survived');
  }, 40_000);
});

describe('when the workspace\'s image is on no registry the runner can reach', () => {
  it('fails the run with the reason', async () => {
    const patched = await stack.call({ method: 'PATCH', url: `/api/workspaces/${workspaces.b.slug}`, token: tokens.owner, payload: { dockerImage: 'hexa-missing/nowhere:1' } });
    expect(patched.statusCode).toBe(200);
    await pipeline(workspaces.b.slug, { code: 'hello', name: 'Hello', command: ['echo', 'hello'] }, 'owner');
    const run = await until(workspaces.b.slug, (await launch(workspaces.b.slug, 'hello', 'owner')).id, ['failed', 'succeeded'], 30_000);
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/^The image hexa-missing\/nowhere:1 is not on the runner's Docker engine and could not be pulled/);
    expect(run.imageDigest).toBeNull();
  }, 40_000);
});

describe('when more runs are launched than the workspace may run at once', () => {
  it('queues the extra ones, never drops them, and all end; the logs stream until the end', async () => {
    await pipeline(workspaces.a.slug, { code: 'short', name: 'Short', command: ['sh', '-c', 'echo start; sleep 1; echo end'] });
    const runs = await Promise.all([1, 2, 3, 4].map(() => launch(workspaces.a.slug, 'short', 'viewer')));
    let most = 0;
    const all = await eventually(async () => {
      const listed = (await stack.call({ method: 'GET', url: `/api/workspaces/${workspaces.a.slug}/runs?pipeline=short`, token: tokens.viewer })).json<{ items: Run[] }>().items;
      most = Math.max(most, listed.filter((run) => run.status === 'running').length);
      return listed.every((run) => run.status === 'succeeded') ? listed : undefined;
    }, 30_000, 50);
    expect(all).toHaveLength(4);
    expect(most).toBeLessThanOrEqual(2);
    // A follower of a finished run gets its output and the end at once.
    const stream = await stack.call({ method: 'GET', url: `/api/workspaces/${workspaces.a.slug}/runs/${runs[0]!.id}/logs`, token: tokens.viewer, headers: { accept: 'text/event-stream' } });
    expect(stream.statusCode).toBe(200);
    expect(stream.headers['content-type']).toContain('text/event-stream');
    expect(stream.body).toContain('event: log\ndata: "start\\nend\\n"\n\n');
    expect(stream.body).toMatch(/event: end\ndata: \{.*"status":"succeeded"/);
  }, 60_000);
});

describe('when an Editor manages a pipeline', () => {
  const url = () => `/api/workspaces/${workspaces.a.slug}/pipelines/crud`;

  it('creates, reads, updates and deletes it; refuses a duplicate code, limits above the maxima, and a delete while a run is live', async () => {
    await pipeline(workspaces.a.slug, { code: 'crud', name: 'CRUD', command: ['sh', '-c', 'sleep 2; echo first'] });
    const duplicate = await stack.call({ method: 'POST', url: `/api/workspaces/${workspaces.a.slug}/pipelines`, token: tokens.editor, payload: { code: 'crud', name: 'Again', command: ['true'] } });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ code: 'conflict' });
    const tooLong = await stack.call({ method: 'POST', url: `/api/workspaces/${workspaces.a.slug}/pipelines`, token: tokens.editor, payload: { code: 'too-long', name: 'Too long', command: ['true'], timeoutSeconds: runnerConfig.RUN_MAX_TIMEOUT_SECONDS + 1 } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ code: 'invalid_input', errors: [{ field: 'body/timeoutSeconds' }] });

    const read = await stack.call({ method: 'GET', url: url(), token: tokens.viewer });
    expect(read.statusCode).toBe(200);
    // No memory asked: the default (1024 MB), held to this platform's lower maximum.
    expect(read.json()).toMatchObject({ code: 'crud', name: 'CRUD', command: ['sh', '-c', 'sleep 2; echo first'], memoryMb: maxMemoryMb, cpus: 1 });

    const tooBig = await stack.call({ method: 'PATCH', url: url(), token: tokens.editor, payload: { memoryMb: maxMemoryMb + 1 } });
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json()).toMatchObject({ code: 'invalid_input', errors: [{ field: 'body/memoryMb' }] });

    // A run launched before an edit keeps the command it was launched with.
    const launched = await launch(workspaces.a.slug, 'crud', 'viewer');
    const edited = await stack.call({ method: 'PATCH', url: url(), token: tokens.editor, payload: { name: 'Edited', command: ['echo', 'second'] } });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ name: 'Edited', command: ['echo', 'second'] });

    const whileLive = await stack.call({ method: 'DELETE', url: url(), token: tokens.admin });
    expect(whileLive.statusCode).toBe(409);
    expect(whileLive.json()).toMatchObject({ code: 'conflict' });

    const ended = await until(workspaces.a.slug, launched.id, ['succeeded', 'failed']);
    expect(ended.status).toBe('succeeded');
    expect((await logsOf(workspaces.a.slug, launched.id)).text).toBe('first\n');
    const next = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'crud', 'viewer')).id, ['succeeded', 'failed']);
    expect((await logsOf(workspaces.a.slug, next.id)).text).toBe('second\n');

    const deleted = await stack.call({ method: 'DELETE', url: url(), token: tokens.admin });
    expect(deleted.statusCode).toBe(204);
    expect((await stack.call({ method: 'GET', url: url(), token: tokens.viewer })).statusCode).toBe(404);
    // Its runs stay readable.
    expect((await getRun(workspaces.a.slug, launched.id)).status).toBe('succeeded');
  }, 60_000);

  it('a pipeline saved under higher maxima is launched within the maxima of now', async () => {
    await pipeline(workspaces.a.slug, { code: 'over-limits', name: 'Over the limits', command: ['sleep', '30'] });
    // As if saved before the operator lowered RUN_MAX_MEMORY_MB and RUN_MAX_CPUS.
    await query(`update "${stack.schemas.runner}".pipelines set memory_mb = 2048, cpus = 2 where workspace_slug = $1 and code = 'over-limits'`, [workspaces.a.slug]);
    const launched = await launch(workspaces.a.slug, 'over-limits', 'viewer');
    await until(workspaces.a.slug, launched.id, ['running']);
    const [container] = await containersOfRun(launched.id);
    const info = await docker.getContainer(container!.Id).inspect();
    expect(info.HostConfig).toMatchObject({ Memory: maxMemoryMb * 1024 * 1024, NanoCpus: 1_000_000_000 });
    expect((await cancel(workspaces.a.slug, launched.id, 'viewer')).statusCode).toBe(202);
    await until(workspaces.a.slug, launched.id, ['canceled']);
  }, 30_000);
});

describe('when runs end in their different ways', () => {
  it('a non-zero exit fails with its code and reason; times are set and ordered; the list filters by status and pipeline', async () => {
    await pipeline(workspaces.a.slug, { code: 'exits-three', name: 'Exits 3', command: ['sh', '-c', 'echo oops >&2; exit 3'] });
    const run = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'exits-three', 'viewer')).id, ['failed', 'succeeded']);
    expect(run).toMatchObject({ status: 'failed', exitCode: 3, reason: 'Exited with code 3' });
    const [created, started, finished] = [run.createdAt, run.startedAt, run.finishedAt].map((time) => Date.parse(time ?? ''));
    expect(created).toBeLessThanOrEqual(started!);
    expect(started).toBeLessThanOrEqual(finished!);
    // Standard error is stored too.
    expect((await logsOf(workspaces.a.slug, run.id)).text).toBe('oops\n');

    const list = async (search: string) => {
      const answer = await stack.call({ method: 'GET', url: `/api/workspaces/${workspaces.a.slug}/runs?${search}`, token: tokens.viewer });
      expect(answer.statusCode).toBe(200);
      return answer.json<{ items: Run[] }>().items;
    };
    expect((await list('pipeline=exits-three&status=failed')).map((item) => item.id)).toEqual([run.id]);
    expect(await list('pipeline=exits-three&status=succeeded')).toEqual([]);
    const failed = await list('status=failed');
    expect(failed.map((item) => item.id)).toContain(run.id);
    expect(failed.every((item) => item.status === 'failed')).toBe(true);
    const ofPipeline = await list('pipeline=exits-three');
    expect(ofPipeline.every((item) => item.pipelineCode === 'exits-three')).toBe(true);
  }, 30_000);

  it('a queued run canceled by its launcher never starts; an Editor and an Admin cancel runs someone else launched', async () => {
    await pipeline(workspaces.a.slug, { code: 'nap', name: 'Nap', command: ['sleep', '30'], memoryMb: 32 });
    // The workspace runs two at once: the third waits queued.
    const first = await launch(workspaces.a.slug, 'nap', 'viewer');
    const second = await launch(workspaces.a.slug, 'nap', 'viewer');
    await until(workspaces.a.slug, first.id, ['running']);
    await until(workspaces.a.slug, second.id, ['running']);
    const third = await launch(workspaces.a.slug, 'nap', 'viewer');
    expect((await getRun(workspaces.a.slug, third.id)).status).toBe('queued');
    const queued = await cancel(workspaces.a.slug, third.id, 'viewer');
    expect(queued.statusCode).toBe(202);
    expect(queued.run).toMatchObject({ status: 'canceled', reason: 'Canceled by a user', startedAt: null });

    expect((await getRun(workspaces.a.slug, first.id, 'admin')).canCancel).toBe(true);
    expect((await cancel(workspaces.a.slug, first.id, 'admin')).statusCode).toBe(202);
    expect((await cancel(workspaces.a.slug, second.id, 'editor')).statusCode).toBe(202);
    for (const run of [first, second]) expect(await until(workspaces.a.slug, run.id, ['canceled', 'failed', 'succeeded'], 10_000)).toMatchObject({ status: 'canceled', reason: 'Canceled by a user' });
    // Room again, and still the third never ran.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await getRun(workspaces.a.slug, third.id)).toMatchObject({ status: 'canceled', startedAt: null, imageDigest: null });
    expect(await containersOfRun(third.id)).toEqual([]);
  }, 40_000);
});

describe('when a run prints more than the log may keep', () => {
  afterAll(() => restartRunner());

  it('keeps the first RUN_LOG_MAX_BYTES bytes (UTF-8) of stdout and stderr, then the marker, and says truncated', async () => {
    await restartRunner({ RUN_LOG_MAX_BYTES: 1024 });
    // 800 "é": 800 characters, 1600 bytes; the line on stderr comes first.
    await pipeline(workspaces.a.slug, {
      code: 'chatty',
      name: 'Chatty',
      command: ['sh', '-c', 'echo to-stderr >&2; sleep 0.5; i=0; while [ $i -lt 800 ]; do printf "é"; i=$((i+1)); done; echo; echo after'],
    });
    const run = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'chatty', 'viewer')).id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    const logs = await logsOf(workspaces.a.slug, run.id);
    expect(logs.truncated).toBe(true);
    const marker = "\n[hexa] output truncated: only the first 1024 bytes of this run's output are kept\n";
    expect(logs.text.endsWith(marker)).toBe(true);
    const kept = logs.text.slice(0, -marker.length);
    expect(kept.startsWith('to-stderr\né')).toBe(true);
    // Whole characters up to the limit: 10 bytes of the first line, then 507 "é" (1014 bytes).
    expect(Buffer.byteLength(kept)).toBe(1024);
    expect(kept).toBe(`to-stderr\n${'é'.repeat(507)}`);
    expect(logs.text).not.toContain('after');
  }, 40_000);
});

describe('when someone follows a run\'s logs over HTTP from before its first line', () => {
  it('receives each line as it is printed on one connection, then the end', async () => {
    await pipeline(workspaces.a.slug, { code: 'ticker', name: 'Ticker', command: ['sh', '-c', 'sleep 1; echo one; sleep 1.5; echo two; sleep 1.5; echo three'] });
    const launched = await launch(workspaces.a.slug, 'ticker', 'viewer');
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/api/workspaces/${workspaces.a.slug}/runs/${launched.id}/logs`, {
      headers: { authorization: `Bearer ${tokens.viewer}`, accept: 'text/event-stream' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events: { event: string; data: unknown; at: number }[] = [];
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
        events.push({ event, data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'), at: Date.now() });
      }
    }
    const lines = events.filter((event) => event.event === 'log');
    expect(lines.map((event) => event.data).join('')).toBe('one\ntwo\nthree\n');
    // Live: the lines came in at least two deliveries, the first well before the end.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const ending = events.at(-1)!;
    expect(ending).toMatchObject({ event: 'end', data: { id: launched.id, status: 'succeeded' } });
    expect(ending.at - lines[0]!.at).toBeGreaterThanOrEqual(1500);
  }, 40_000);
});

describe('when a run tries to reach another run\'s container', () => {
  it('cannot (no traffic between run containers), while the gateway stays reachable', async () => {
    await pipeline(workspaces.a.slug, { code: 'listener', name: 'Listener', command: ['sh', '-c', 'while true; do echo reached | nc -l -p 9999; done'], memoryMb: 32 });
    const listener = await launch(workspaces.a.slug, 'listener', 'viewer');
    await until(workspaces.a.slug, listener.id, ['running']);
    const [container] = await containersOfRun(listener.id);
    const address = (await docker.getContainer(container!.Id).inspect()).NetworkSettings.Networks[runnerConfig.RUN_NETWORK]?.IPAddress;
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const network = await docker.getNetwork(runnerConfig.RUN_NETWORK).inspect();
    expect(network.Options).toMatchObject({ 'com.docker.network.bridge.enable_icc': 'false' });
    await pipeline(workspaces.a.slug, {
      code: 'prober',
      name: 'Prober',
      command: [
        'sh',
        '-c',
        [
          `if echo x | timeout 3 nc ${address} 9999 | grep -q reached; then echo "peer: reached"; else echo "peer: blocked"; fi`,
          'echo "me: $(wget -q -O - --header "Authorization: Bearer $HEXA_TOKEN" "$HEXA_SERVER_URL/api/me")"',
        ].join('\n'),
      ],
      memoryMb: 32,
    });
    const prober = await until(workspaces.a.slug, (await launch(workspaces.a.slug, 'prober', 'viewer')).id, ['succeeded', 'failed']);
    const text = (await logsOf(workspaces.a.slug, prober.id)).text;
    expect(text).toContain('peer: blocked\n');
    expect(text).toContain('"email":"viewer@example.org"');
    expect((await cancel(workspaces.a.slug, listener.id, 'viewer')).statusCode).toBe(202);
    await until(workspaces.a.slug, listener.id, ['canceled']);
  }, 40_000);
});

describe('when the runner worker was down while its runs went on', () => {
  const launched: Record<'exited' | 'canceled' | 'lingering' | 'vanished' | 'claimed', Run | undefined> = { exited: undefined, canceled: undefined, lingering: undefined, vanished: undefined, claimed: undefined };
  let orphan: string;

  beforeAll(async () => {
    await restartRunner({ RUN_CONCURRENCY_PER_WORKSPACE: 5 });
    await pipeline(workspaces.a.slug, { code: 'exits-five', name: 'Exits 5', command: ['sh', '-c', 'echo working; sleep 2; exit 5'], memoryMb: 32 });
    await pipeline(workspaces.a.slug, { code: 'snooze', name: 'Snooze', command: ['sleep', '60'], memoryMb: 32 });
    await pipeline(workspaces.a.slug, { code: 'say-hi', name: 'Say hi', command: ['echo', 'hi'], memoryMb: 32 });
    launched.exited = await launch(workspaces.a.slug, 'exits-five', 'viewer');
    launched.canceled = await launch(workspaces.a.slug, 'snooze', 'viewer');
    launched.lingering = await launch(workspaces.a.slug, 'snooze', 'viewer');
    launched.vanished = await launch(workspaces.a.slug, 'snooze', 'viewer');
    for (const run of [launched.exited, launched.canceled, launched.lingering, launched.vanished]) await until(workspaces.a.slug, run.id, ['running']);

    // The worker stops; its containers go on.
    await runner!.close();
    runner = undefined;
    // A cancel asked for while it is down, and the container stopped (as the dying worker would have):
    // it exits non-zero, yet the run was canceled.
    expect((await cancel(workspaces.a.slug, launched.canceled.id, 'viewer')).statusCode).toBe(202);
    const [canceledContainer] = await containersOfRun(launched.canceled.id);
    await docker.getContainer(canceledContainer!.Id).stop({ t: 0 });
    // A cancel asked for while it is down, its container still running.
    expect((await cancel(workspaces.a.slug, launched.lingering.id, 'viewer')).statusCode).toBe(202);
    // A container gone meanwhile.
    const [vanishedContainer] = await containersOfRun(launched.vanished.id);
    await docker.getContainer(vanishedContainer!.Id).remove({ force: true });
    // A container of this platform whose run does not exist.
    const created = await docker.createContainer({
      Image: baseImage,
      Cmd: ['sleep', '60'],
      Labels: { 'hexa.instance': runnerConfig.HEXA_RUNNER_INSTANCE, 'hexa.run': randomUUID(), 'hexa.workspace': workspaces.a.id },
    });
    await created.start();
    orphan = created.id;
    // A run a worker had claimed but not started when it died.
    launched.claimed = await launch(workspaces.a.slug, 'say-hi', 'viewer');
    await query(`update "${stack.schemas.runner}".runs set claimed_by = $2, claimed_at = now() where id = $1 and status = 'queued'`, [launched.claimed.id, randomUUID()]);
    // The first run exits on its own, unwatched.
    const [exitedContainer] = await containersOfRun(launched.exited.id);
    await eventually(async () => ((await docker.getContainer(exitedContainer!.Id).inspect()).State.Running ? undefined : true), 15_000, 200);

    runner = await startRunner({ RUN_CONCURRENCY_PER_WORKSPACE: 5 });
  }, 90_000);

  afterAll(async () => {
    await docker.getContainer(orphan).remove({ force: true }).catch(() => undefined);
    await restartRunner();
  });

  it('a container that exited meanwhile gives the run its real outcome, and its output', async () => {
    const run = await until(workspaces.a.slug, launched.exited!.id, ['failed', 'succeeded', 'timed_out', 'canceled']);
    expect(run).toMatchObject({ status: 'failed', exitCode: 5, reason: 'Exited with code 5' });
    expect((await logsOf(workspaces.a.slug, run.id)).text).toBe('working\n');
  });

  it('a run canceled meanwhile ends canceled, not failed with the code it was stopped with', async () => {
    const run = await until(workspaces.a.slug, launched.canceled!.id, ['failed', 'succeeded', 'timed_out', 'canceled']);
    expect(run).toMatchObject({ status: 'canceled', reason: 'Canceled by a user' });
  });

  it('a run canceled meanwhile whose container still runs is stopped and ends canceled', async () => {
    const run = await until(workspaces.a.slug, launched.lingering!.id, ['failed', 'succeeded', 'timed_out', 'canceled'], 15_000);
    expect(run).toMatchObject({ status: 'canceled', reason: 'Canceled by a user' });
  });

  it('a running run whose container is gone ends failed, with the reason', async () => {
    const run = await until(workspaces.a.slug, launched.vanished!.id, ['failed', 'succeeded', 'timed_out', 'canceled']);
    expect(run).toMatchObject({ status: 'failed', reason: "The run's container was lost while the runner was down" });
  });

  it('the container of a run that does not exist is removed', async () => {
    await expect(docker.getContainer(orphan).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a run claimed but never started is queued again and runs', async () => {
    const run = await until(workspaces.a.slug, launched.claimed!.id, ['failed', 'succeeded']);
    expect(run.status).toBe('succeeded');
    expect((await logsOf(workspaces.a.slug, run.id)).text).toBe('hi\n');
  });

  it('leaves no container of these runs behind', async () => {
    for (const run of Object.values(launched)) await eventually(async () => ((await containersOfRun(run!.id)).length === 0 ? true : undefined), 5000);
  });
});

describe('when the runner worker is killed while a run is running', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGKILL'));

  it('a new worker adopts the container, keeps its output once, and records how it really ended', async () => {
    await runner!.close();
    runner = undefined;
    // The first worker as its own process, killed outright (no chance to clean up).
    // Node itself with tsx's loader: killing a `tsx` launcher would leave its node child running.
    child = spawn(process.execPath, ['--import', 'tsx', join(root, 'services/runner/src/worker.ts')], {
      cwd: root,
      env: { ...process.env, ...runnerConfigEnv(runnerConfig), LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    // After the restart the run asks its database for TLS (PostgreSQL's SSLRequest) and prints the one-byte answer:
    // the adopted run still reaches the workspace cluster, through the new worker's relay on the port it was given.
    const askDatabase = `printf '\\0\\0\\0\\10\\4\\322\\26\\57' | timeout 3 nc "$WORKSPACE_DATABASE_HOST" "$WORKSPACE_DATABASE_PORT" | head -c 1`;
    await pipeline(workspaces.a.slug, { code: 'survivor', name: 'Survivor', command: ['sh', '-c', `echo before; sleep 4; echo "database: $(${askDatabase})"; echo after`] });
    const launched = await launch(workspaces.a.slug, 'survivor', 'viewer');
    await until(workspaces.a.slug, launched.id, ['running'], 30_000);
    await eventually(async () => ((await logsOf(workspaces.a.slug, launched.id)).text.includes('before') ? true : undefined), 10_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    expect((await containersOfRun(launched.id)).map((container) => container.State)).toEqual(['running']);

    runner = await startRunner();
    const run = await until(workspaces.a.slug, launched.id, ['succeeded', 'failed'], 20_000);
    expect(run).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect((await logsOf(workspaces.a.slug, launched.id)).text).toMatch(/^before\ndatabase: [NS]\nafter\n$/);
    await eventually(async () => ((await containersOfRun(launched.id)).length === 0 ? true : undefined), 5000);
  }, 90_000);
});

describe('when the workspace is archived while a run is running', () => {
  it('the run is stopped and ends canceled', async () => {
    const restored = await stack.call({ method: 'PATCH', url: `/api/workspaces/${workspaces.b.slug}`, token: tokens.owner, payload: { dockerImage: '' } });
    expect(restored.statusCode).toBe(200);
    await pipeline(workspaces.b.slug, { code: 'long', name: 'Long', command: ['sleep', '30'] }, 'owner');
    const launched = await launch(workspaces.b.slug, 'long', 'owner');
    const running = await until(workspaces.b.slug, launched.id, ['running', 'failed'], 30_000);
    expect(running).toMatchObject({ status: 'running', image: 'hexa/base-environment:latest' });
    const archived = await stack.call({ method: 'POST', url: `/api/workspaces/${workspaces.b.slug}/archive`, token: tokens.owner });
    expect(archived.statusCode).toBe(200);
    const rows = await eventually(async () => {
      const found = await query<{ status: string; reason: string }>(`select status, reason from "${stack.schemas.runner}".runs where id = $1`, [launched.id]);
      return found[0]?.status === 'canceled' ? found : undefined;
    }, 15_000);
    expect(rows[0]).toEqual({ status: 'canceled', reason: 'The workspace was archived' });
  }, 60_000);
});
