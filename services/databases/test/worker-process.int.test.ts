import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { eventually, query, testDatabaseUrl, testRole, workspaceClusterObjects } from '@hexa/testing';
import { migrations } from '../src/migrations/index.js';
import { loginOutcome, newWorkspace, setUp, type Fixture } from './harness.js';

// The worker as production runs it: a process of its own, configured by the environment, killed for real.
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
let fixture: Fixture;

beforeAll(async () => {
  // A dead worker's job is taken over once its lock lapses (2 s) and a stalled check finds it (every 0.5 s).
  fixture = await setUp({ JOB_LOCK_MS: '2000', JOB_STALLED_CHECK_MS: '500' });
});
afterAll(() => fixture.close());

interface Running { child: ChildProcess; output: () => string; exited: Promise<number | null> }

function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...fixture.env, ...extra };
}

/** Starts an entry point and resolves once its output matches `ready`. */
async function start(file: string, ready: RegExp): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: serviceDir, env: environment(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not get ready:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`${file} exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, exited };
}

describe('when the worker is killed in the middle of provisioning, after the logins and before the database', () => {
  it('a restarted worker finishes it: the workspace is ready and nothing is left over or made twice', async () => {
    const workspace = newWorkspace();
    const names = { database: `${fixture.prefix}${workspace.workspaceId.replace(/-/g, '')}` };
    const application = `hexa:${fixture.schema}`;

    // Holding this lock stops the worker exactly where recording the `roles` step would write: the logins
    // exist on the cluster, the step is not recorded, and the database step has not begun.
    const blocker = new pg.Client({ connectionString: testDatabaseUrl });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query(`lock table "${fixture.schema}".provisioning_steps in share mode`);

    const first = await start('src/worker.ts', /databases worker started/);
    let second: Running | undefined;
    try {
      await fixture.created(workspace);
      await eventually(async () => {
        const { roles } = await workspaceClusterObjects(fixture.prefix);
        const waiting = await query('select pid from pg_stat_activity where application_name = $1 and wait_event_type = $2', [application, 'Lock']);
        return roles.length === 2 && waiting.length === 1 ? true : undefined;
      }, 20_000);

      first.child.kill('SIGKILL');
      expect(await first.exited).toBeNull();
      // The killed process's statement still waits on the server: end it, as the server would once it noticed.
      await query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and wait_event_type = $2', [application, 'Lock']);
      await blocker.query('rollback');

      expect(await workspaceClusterObjects(fixture.prefix)).toEqual({ databases: [], roles: [names.database, `${names.database}_ro`] });
      expect(await query(`select step from "${fixture.schema}".provisioning_steps`)).toEqual([]);
      expect(await query(`select status from "${fixture.schema}".workspace_databases`)).toEqual([{ status: 'provisioning' }]);

      second = await start('src/worker.ts', /databases worker started/);
      await fixture.waitForStatus(workspace.workspaceId, 'ready', 30_000);
      expect(await workspaceClusterObjects(fixture.prefix)).toEqual({ databases: [names.database], roles: [names.database, `${names.database}_ro`] });
      const { owner } = await fixture.passwords(workspace.workspaceId);
      expect(await loginOutcome({ user: names.database, password: owner, database: names.database })).toBe('ok');
      expect((await query<{ step: string }>(`select step from "${fixture.schema}".provisioning_steps order by completed_at`)).map((row) => row.step)).toEqual(['roles', 'database', 'grants', 'logins']);
      const report = await eventually(async () => (await fixture.queues.workspaces.getJob(`database.status-changed-${workspace.workspaceId}-1-ready`)) ?? undefined);
      expect(report.data).toEqual({ workspaceId: workspace.workspaceId, slug: workspace.slug, status: 'ready' });
      // The same job, taken over: not a second one.
      expect(await (await fixture.queues.databases.getJob(`workspace.created-${workspace.workspaceId}`))?.getState()).toBe('completed');
      expect(await fixture.queues.databases.count()).toBe(0);
    } finally {
      await blocker.end().catch(() => undefined);
      first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
        expect(second.output()).toContain('closing on SIGTERM');
      }
    }
  }, 90_000);
});

describe('the migrate script', () => {
  it('finds nothing left to do once the migrations ran', () => {
    const run = () => spawnSync(process.execPath, ['--import', 'tsx', 'src/migrate.ts'], { cwd: serviceDir, env: environment(), encoding: 'utf8', timeout: 20_000 });
    // setUp migrated already: nothing left to do, and the tables belong to the role.
    expect(run()).toMatchObject({ status: 0, stdout: 'databases: 0 migration(s) applied\n' });
    expect(Object.keys(migrations)).toEqual(['2026-12-01T1000-initial']);
  });

  it('owns its tables', async () => {
    const owners = await query<{ tableowner: string }>('select distinct tableowner from pg_tables where schemaname = $1', [fixture.schema]);
    expect(owners).toEqual([{ tableowner: testRole('databases') }]);
  });
});

describe('when the configuration is wrong', () => {
  it('exits 78 naming every problem, without a secret', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: serviceDir,
      env: environment({ HEXA_DATABASE_ENCRYPTION_KEY: 'too-short-key', HEXA_WORKSPACE_DB_ADMIN_URL: 'mysql://admin:hunter2@db/x' }),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toBe(
      'databases-worker: Invalid configuration:\n  HEXA_WORKSPACE_DB_ADMIN_URL=(secret): must use postgres or postgresql\n  HEXA_DATABASE_ENCRYPTION_KEY=(secret): must be 32 bytes in base64 (openssl rand -base64 32)\n',
    );
  });
});
