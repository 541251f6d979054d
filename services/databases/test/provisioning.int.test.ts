import pg from 'pg';
import pino from 'pino';
import { eventually, query, testWorkspaceClusterAdminUrl, workspaceClusterObjects } from '@hexa/testing';
import type { UserCaller } from '@hexa/kit';
import { createWorkspaceCluster, type WorkspaceCluster } from '../src/modules/cluster/workspace-cluster.js';
import { createProvisioningService } from '../src/modules/provisioning/provisioning-service.js';
import { provisioningSteps } from '../src/modules/provisioning/provisioning-fns.js';
import { asSuperuser, loginOutcome, newWorkspace, runAs, setUp, type Fixture } from './harness.js';

// Provisioning against the real workspace cluster (password logins over TCP) and real BullMQ.
let fixture: Fixture;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  fixture = await setUp({ RECONCILE_INTERVAL_MS: '3600000' });
  await fixture.startWorker();
});
// Dropping every database the file made takes a while on a loaded machine.
afterAll(() => fixture.close(), 60_000);

function clusterOf(): WorkspaceCluster {
  const { config } = fixture;
  return createWorkspaceCluster({
    adminUrl: config.HEXA_WORKSPACE_DB_ADMIN_URL,
    settings: { connectionLimit: config.WORKSPACE_DB_CONNECTION_LIMIT, statementTimeoutMs: config.WORKSPACE_DB_STATEMENT_TIMEOUT_MS, idleInTransactionTimeoutMs: config.WORKSPACE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS },
  });
}

function loginUrlOf(login: { user: string; password: string; database: string }): string {
  const url = new URL(testWorkspaceClusterAdminUrl);
  url.username = login.user;
  url.password = login.password;
  url.pathname = `/${login.database}`;
  return url.toString();
}

function provisioningWith(cluster: WorkspaceCluster) {
  return createProvisioningService({ db: fixture.db, secrets: fixture.secrets, prefix: fixture.prefix, log: silent, cluster, shown: cluster.endpoint });
}

describe('when a workspace is created', () => {
  const workspace = newWorkspace();
  let login: { owner: { user: string; password: string; database: string }; reader: { user: string; password: string; database: string } };

  beforeAll(async () => {
    await fixture.created(workspace);
    await fixture.waitForStatus(workspace.workspaceId, 'ready');
    const { owner, reader, names } = await fixture.passwords(workspace.workspaceId);
    login = { owner: { user: names.owner, password: owner, database: names.database }, reader: { user: names.reader, password: reader, database: names.database } };
  });

  it('makes one database and two logins named from the workspace id, and reports ready to the workspaces service', async () => {
    const name = `${fixture.prefix}${workspace.workspaceId.replace(/-/g, '')}`;
    expect(await workspaceClusterObjects(fixture.prefix)).toEqual({ databases: [name], roles: [name, `${name}_ro`] });
    const report = await eventually(async () => (await fixture.queues.workspaces.getJob(`database.status-changed-${workspace.workspaceId}-1-ready`)) ?? undefined);
    expect(report.data).toEqual({ workspaceId: workspace.workspaceId, slug: workspace.slug, status: 'ready' });
  });

  it('keeps the passwords encrypted: 43 random characters that appear in no table row, job or log line', async () => {
    expect(login.owner.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.reader.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.owner.password).not.toBe(login.reader.password);
    const everything = JSON.stringify([
      await query(`select * from "${fixture.schema}".workspace_databases`),
      await query(`select * from "${fixture.schema}".outbox`),
      (await fixture.queues.workspaces.getJobs(['waiting', 'completed', 'active', 'delayed'])).map((job) => job?.data),
      fixture.logs,
    ]);
    expect(everything).toContain('provisioning step done');
    for (const password of [login.owner.password, login.reader.password]) expect(everything).not.toContain(password);
  });

  it('lets the read-write login in over TCP with its password, and refuses a wrong one', async () => {
    expect(await loginOutcome(login.owner)).toBe('ok');
    expect(await loginOutcome(login.reader)).toBe('ok');
    expect(await loginOutcome({ ...login.owner, password: 'not-the-password' })).toBe('28P01');
    expect(await loginOutcome({ ...login.reader, password: login.owner.password })).toBe('28P01');
  });

  it('gives the read-write login the public schema, and the read-only login SELECT on its tables and nothing more', async () => {
    expect(await runAs(login.owner, ['create table measures (id int primary key, value text)', "insert into measures values (1, 'a')", 'create schema elsewhere'])).toEqual([[], [], '42501']);
    // The table did not exist when the grants were made: the owner's default privileges cover it.
    expect(await runAs(login.reader, ['select id, value from measures', "insert into measures values (2, 'b')", 'set default_transaction_read_only = off', "insert into measures values (2, 'b')", 'create table planted (id int)'])).toEqual([
      [{ id: 1, value: 'a' }],
      '25006',
      [],
      '42501',
      '42501',
    ]);
    expect(await asSuperuser("select nspowner::regrole::text as owner from pg_namespace where nspname = 'public'", [], login.owner.database)).toEqual([{ owner: login.owner.user }]);
  });

  it('lets nobody else in: PUBLIC has no CONNECT, and each login reaches only its own database', async () => {
    const other = newWorkspace();
    await fixture.created(other);
    await fixture.waitForStatus(other.workspaceId, 'ready');
    const { owner, names } = await fixture.passwords(other.workspaceId);
    expect(await loginOutcome({ user: names.owner, password: owner, database: login.owner.database })).toBe('42501');
    expect(await loginOutcome({ ...login.owner, database: 'postgres' })).toBe('42501');
    expect(await loginOutcome({ ...login.reader, database: 'template1' })).toBe('42501');
    const publicAcl = await asSuperuser("select a.privilege_type from pg_database d cross join lateral aclexplode(d.datacl) a where d.datname = $1 and a.grantee = 0", [login.owner.database]);
    expect(publicAcl).toEqual([]);
  });

  it('limits the connections and sets statement and idle-in-transaction timeouts on the database', async () => {
    const [database] = await asSuperuser<{ limit: number; settings: string[] }>(
      'select d.datconnlimit as limit, s.setconfig as settings from pg_database d join pg_db_role_setting s on s.setdatabase = d.oid and s.setrole = 0 where d.datname = $1',
      [login.owner.database],
    );
    expect(database).toEqual({ limit: 20, settings: ['statement_timeout=900000', 'idle_in_transaction_session_timeout=600000'] });
    expect(await runAs(login.owner, ['show statement_timeout', 'show idle_in_transaction_session_timeout'])).toEqual([[{ statement_timeout: '15min' }], [{ idle_in_transaction_session_timeout: '10min' }]]);
  });

  it('refuses a connection beyond the limit, whichever login opens it', async () => {
    const limit = fixture.config.WORKSPACE_DB_CONNECTION_LIMIT;
    const open: pg.Client[] = [];
    try {
      for (let index = 0; index < limit; index++) {
        const client = new pg.Client({ connectionString: loginUrlOf(login.owner) });
        client.on('error', () => undefined);
        open.push(client);
        await client.connect();
      }
      expect(await loginOutcome(login.owner)).toBe('53300');
      expect(await loginOutcome(login.reader)).toBe('53300');
    } finally {
      await Promise.all(open.map((client) => client.end().catch(() => undefined)));
    }
    expect(await eventually(async () => ((await loginOutcome(login.owner)) === 'ok' ? 'ok' : undefined))).toBe('ok');
  });

  it('changes nothing and fails nothing when the job is delivered again', async () => {
    const before = await query(`select ready_at, generation, owner_password from "${fixture.schema}".workspace_databases where workspace_id = $1`, [workspace.workspaceId]);
    const job = await fixture.queues.databases.add('workspace.created', workspace, { jobId: `workspace.created-${workspace.workspaceId}-again` });
    await eventually(async () => ((await job.getState()) === 'completed' ? true : undefined));
    expect(await query(`select ready_at, generation, owner_password from "${fixture.schema}".workspace_databases where workspace_id = $1`, [workspace.workspaceId])).toEqual(before);
    expect(await loginOutcome(login.owner)).toBe('ok');
  });
});

describe('when provisioning dies between two steps and runs again', () => {
  // The worker dies before a step's work, or after the work but before the step is recorded.
  const methodOf = { roles: 'ensureRoles', database: 'ensureDatabase', grants: 'ensureGrants', logins: 'setLogins' } as const;
  const cases = provisioningSteps.flatMap((step) => [[step, 'before'] as const, [step, 'after'] as const]);

  it.each(cases)('at %s (%s its work) completes without errors or duplicates', async (step, when) => {
    const real = clusterOf();
    const method = methodOf[step];
    const dying = {
      ...real,
      [method]: async (...args: unknown[]) => {
        if (when === 'before') throw new Error('the worker died here');
        await (real[method] as (...a: unknown[]) => Promise<void>)(...args);
        throw new Error('the worker died here');
      },
    } as WorkspaceCluster;
    const workspace = newWorkspace();
    try {
      await provisioningWith(real).accept(workspace, { queue: 'databases', id: `test-${workspace.workspaceId}`, name: 'workspace.created' });
      await expect(provisioningWith(dying).run(workspace.workspaceId, { final: false })).rejects.toThrow();
      const halfway = await query<{ status: string; status_reason: string }>(`select status, status_reason from "${fixture.schema}".workspace_databases where workspace_id = $1`, [workspace.workspaceId]);
      expect(halfway).toEqual([{ status: 'provisioning', status_reason: 'Provisioning failed unexpectedly; the worker log has the details; retrying' }]);
      const recorded = await query<{ step: string }>(`select step from "${fixture.schema}".provisioning_steps where workspace_id = $1`, [workspace.workspaceId]);
      expect(recorded.map((row) => row.step).sort()).toEqual(provisioningSteps.slice(0, provisioningSteps.indexOf(step)).slice().sort());

      await provisioningWith(real).run(workspace.workspaceId, { final: false });
      await fixture.waitForStatus(workspace.workspaceId, 'ready');
      const { owner, reader, names } = await fixture.passwords(workspace.workspaceId);
      const all = await workspaceClusterObjects(fixture.prefix);
      expect(all.databases.filter((name) => name === names.database)).toHaveLength(1);
      expect(all.roles.filter((name) => name.startsWith(names.database))).toEqual([names.owner, names.reader]);
      expect(await runAs({ user: names.owner, password: owner, database: names.database }, ['create table t (id int)', 'insert into t values (1)'])).toEqual([[], []]);
      expect(await runAs({ user: names.reader, password: reader, database: names.database }, ['select id from t'])).toEqual([[{ id: 1 }]]);
    } finally {
      await real.close();
    }
  });
});

describe('when provisioning died after creating the logins but before granting them to the admin login', () => {
  it('grants them on the retry (it asks whether the admin holds their privileges, not whether a membership exists) and completes', async () => {
    const workspace = newWorkspace();
    const real = clusterOf();
    try {
      await provisioningWith(real).accept(workspace, { queue: 'databases', id: `test-${workspace.workspaceId}`, name: 'workspace.created' });
      const { owner, reader, names } = await fixture.passwords(workspace.workspaceId);
      await real.ensureRoles(names, { owner, reader });
      const admin = new URL(testWorkspaceClusterAdminUrl).username;
      // As if the worker died between CREATE ROLE and GRANT.
      await asSuperuser(`revoke "${names.owner}", "${names.reader}" from "${admin}"`);
      const held = "select pg_has_role($1, $2, 'USAGE') as usage";
      expect(await asSuperuser(held, [admin, names.owner])).toEqual([{ usage: false }]);

      await provisioningWith(real).run(workspace.workspaceId, { final: true });
      await fixture.waitForStatus(workspace.workspaceId, 'ready');
      expect(await asSuperuser(held, [admin, names.owner])).toEqual([{ usage: true }]);
      expect(await asSuperuser(held, [admin, names.reader])).toEqual([{ usage: true }]);
      expect(await runAs({ user: names.owner, password: owner, database: names.database }, ['create table t (id int)', 'insert into t values (1)'])).toEqual([[], []]);
      expect(await runAs({ user: names.reader, password: reader, database: names.database }, ['select id from t'])).toEqual([[{ id: 1 }]]);
    } finally {
      await real.close();
    }
  });
});

describe('when a login with the workspace\'s name already exists with privileges a workspace login must not have', () => {
  it('fails at once with the reason, and an Admin\'s retry completes once the cause is gone', async () => {
    const workspace = newWorkspace();
    const name = `${fixture.prefix}${workspace.workspaceId.replace(/-/g, '')}`;
    await asSuperuser(`create role "${name}" superuser`);
    await fixture.created(workspace);
    const failed = await fixture.waitForStatus(workspace.workspaceId, 'failed');
    expect(failed.status_reason).toBe(`Role ${name} exists on the workspace cluster with privileges a workspace login must not have`);
    const job = await fixture.queues.databases.getJob(`workspace.created-${workspace.workspaceId}`);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    const report = await eventually(async () => (await fixture.queues.workspaces.getJob(`database.status-changed-${workspace.workspaceId}-1-failed`)) ?? undefined);
    expect(report.data).toEqual({ workspaceId: workspace.workspaceId, slug: workspace.slug, status: 'failed', reason: failed.status_reason });

    await asSuperuser(`drop role "${name}"`);
    const admin: UserCaller = { kind: 'user', userId: workspace.createdBy, organizationRole: 'MEMBER', adminSomewhere: true };
    const real = clusterOf();
    try {
      const answer = await provisioningWith(real).retry(admin, workspace.slug);
      expect(answer).toMatchObject({ status: 'provisioning', dbName: name });
    } finally {
      await real.close();
    }
    await fixture.waitForStatus(workspace.workspaceId, 'ready');
    const audit = await eventually(async () => {
      const jobs = await fixture.queues.workspaces.getJobs(['waiting', 'completed', 'active']);
      return jobs.find((job) => job?.name === 'audit.recorded' && job.data.workspaceId === workspace.workspaceId);
    });
    expect(audit.data).toMatchObject({ action: 'database.provisioning-retried', actor: { kind: 'user', userId: workspace.createdBy }, before: failed.status_reason });
    const again = await eventually(async () => (await fixture.queues.workspaces.getJob(`database.status-changed-${workspace.workspaceId}-2-provisioning`)) ?? undefined);
    expect(again.data).toMatchObject({ status: 'provisioning' });
    const ready = await eventually(async () => (await fixture.queues.workspaces.getJob(`database.status-changed-${workspace.workspaceId}-2-ready`)) ?? undefined);
    expect(ready.data).toEqual({ workspaceId: workspace.workspaceId, slug: workspace.slug, status: 'ready' });
  });
});

describe('when provisioning made no progress for a while and its job is gone', () => {
  it('the reconciler queues it again, and leaves alone one whose job still waits', async () => {
    const lost = newWorkspace();
    const waiting = newWorkspace();
    const real = clusterOf();
    try {
      // Accepted (as the first delivery does) but its job vanished (Redis lost it).
      await provisioningWith(real).accept(lost, { queue: 'databases', id: `test-${lost.workspaceId}`, name: 'workspace.created' });
      await provisioningWith(real).accept(waiting, { queue: 'databases', id: `test-${waiting.workspaceId}`, name: 'workspace.created' });
      await fixture.queues.databases.add('workspace.created', waiting, { jobId: `workspace.created-${waiting.workspaceId}`, delay: 3_600_000 });
      await query(`update "${fixture.schema}".workspace_databases set updated_at = now() - interval '1 hour' where workspace_id = any($1)`, [[lost.workspaceId, waiting.workspaceId]]);

      // The worker's first pass runs as it starts (a worker that was down finds what stalled meanwhile);
      // both are stalled before it starts, so that pass is the one that must act, whenever it runs.
      const worker = await fixture.startWorker({ RECONCILE_STALLED_AFTER_MS: '1000', RECONCILE_INTERVAL_MS: '3600000' });
      await fixture.waitForStatus(lost.workspaceId, 'ready');
      expect(await query(`select generation from "${fixture.schema}".workspace_databases where workspace_id = $1`, [lost.workspaceId])).toEqual([{ generation: 2 }]);
      // Another pass finds nothing more to do: the one whose job waits is left alone, and stays at its first generation.
      expect(await worker.reconcileOnce()).toEqual({ provisioning: 0, rotations: 0 });
      expect(await query(`select status, generation from "${fixture.schema}".workspace_databases where workspace_id = $1`, [waiting.workspaceId])).toEqual([{ status: 'provisioning', generation: 1 }]);
    } finally {
      await real.close();
    }
  });
});

describe('when a workspace is archived, then restored', () => {
  it('disables its logins and ends their sessions, keeps the data, then enables them with fresh passwords', async () => {
    const workspace = newWorkspace();
    await fixture.created(workspace);
    await fixture.waitForStatus(workspace.workspaceId, 'ready');
    const before = await fixture.passwords(workspace.workspaceId);
    const owner = { user: before.names.owner, password: before.owner, database: before.names.database };
    expect(await runAs(owner, ['create table kept (id int)', 'insert into kept values (42)'])).toEqual([[], []]);

    const session = new pg.Client({ connectionString: `postgres://${owner.user}:${owner.password}@${new URL(testWorkspaceClusterAdminUrl).host}/${owner.database}` });
    session.on('error', () => undefined);
    await session.connect();

    const lifecycle = { workspaceId: workspace.workspaceId, slug: workspace.slug, actorId: workspace.createdBy };
    const archived = await fixture.queues.databases.add('workspace.archived', lifecycle, { jobId: `workspace.archived-${workspace.workspaceId}-1` });
    await eventually(async () => ((await archived.getState()) === 'completed' ? true : undefined));
    expect(await loginOutcome(owner)).toBe('28000');
    expect(await loginOutcome({ user: before.names.reader, password: before.reader, database: before.names.database })).toBe('28000');
    await expect(session.query('select 1')).rejects.toThrow();
    await session.end().catch(() => undefined);
    expect(await asSuperuser('select id from kept', [], owner.database)).toEqual([{ id: 42 }]);

    const restored = await fixture.queues.databases.add('workspace.restored', lifecycle, { jobId: `workspace.restored-${workspace.workspaceId}-1` });
    await eventually(async () => ((await restored.getState()) === 'completed' ? true : undefined));
    const after = await fixture.passwords(workspace.workspaceId);
    expect(after.owner).not.toBe(before.owner);
    expect(await loginOutcome(owner)).toBe('28P01');
    expect(await runAs({ ...owner, password: after.owner }, ['select id from kept'])).toEqual([[{ id: 42 }]]);
  });
});
