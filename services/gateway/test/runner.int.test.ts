import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
// archive, the per-workspace concurrency limit, and a worker killed mid-run.
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
const tokens: Record<'owner' | 'viewer' | 'editor' | 'admin', string> = { owner: '', viewer: '', editor: '', admin: '' };
const workspaces = { a: { slug: '', id: '' }, b: { slug: '', id: '' } };

interface Run {
  id: string;
  status: string;
  exitCode: number | null;
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
  const worker = createRunnerWorker({ config: { ...runnerConfig, ...settings }, log: pino({ level: 'silent' }) });
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
  stack = await startStack({ databasesEnv: { OUTBOX_RELAY_INTERVAL_MS: '100' }, env: { RUN_TOKEN_CACHE_TTL_MS: '0' } });
  // Containers call the gateway over the Docker bridge: it listens on every interface, as `npm start`'s does.
  await stack.gateway.listen({ host: '0.0.0.0', port: 0 });
  const gatewayPort = (stack.gateway.server.address() as { port: number }).port;
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
    await pipeline(workspaces.a.slug, {
      code: 'print-env',
      name: 'Print the environment',
      command: ['sh', '-c', 'cat /marker; env | sort; echo "password again: $WORKSPACE_DATABASE_PASSWORD"; echo "token again: $HEXA_TOKEN"; id -u; pwd'],
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
          `wget -q -O - --header "$auth" "$HEXA_SERVER_URL/api/workspaces/${workspaces.b.slug}" || echo "other: refused"`,
          'wget -q -O - --header "$auth" "$HEXA_SERVER_URL/api/workspaces" || echo "list: refused"',
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
    expect(text).toContain('other: refused');
    expect(text).toContain('list: refused');
  });

  it('writes into the workspace\'s files folder, and its token dies with the run', async () => {
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
