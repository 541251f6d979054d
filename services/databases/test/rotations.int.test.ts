import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { eventually, query } from '@hexa/testing';
import { createWorkspaceCluster, type WorkspaceCluster } from '../src/modules/cluster/workspace-cluster.js';
import { createRotationsService } from '../src/modules/rotations/rotations-service.js';
import { asSuperuser, loginOutcome, newWorkspace, setUp, type Fixture } from './harness.js';

// Password rotations against the real workspace cluster: failures, a job dying midway, the reconciler.
let fixture: Fixture;
/** What the rotations run by the tests themselves log (the fixture's workers log into `fixture.logs`). */
const lines: string[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });

/** No password in any log line, nor in clear in any rotation row. */
async function expectNowhere(passwords: string[]): Promise<void> {
  const rows = JSON.stringify(await query(`select * from "${fixture.schema}".password_rotations`));
  for (const password of passwords) {
    for (const text of [lines.join(''), fixture.logs.join(''), rows]) expect(text).not.toContain(password);
  }
}

beforeAll(async () => {
  fixture = await setUp({ RECONCILE_INTERVAL_MS: '3600000' });
  await fixture.startWorker();
});
afterAll(() => fixture.close());

function clusterOf(): WorkspaceCluster {
  const { config } = fixture;
  return createWorkspaceCluster({
    adminUrl: config.HEXA_WORKSPACE_DB_ADMIN_URL,
    settings: { connectionLimit: config.WORKSPACE_DB_CONNECTION_LIMIT, statementTimeoutMs: config.WORKSPACE_DB_STATEMENT_TIMEOUT_MS, idleInTransactionTimeoutMs: config.WORKSPACE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS },
  });
}

function rotationsWith(cluster: WorkspaceCluster) {
  return createRotationsService({ db: fixture.db, secrets: fixture.secrets, cluster, log });
}

/** A ready workspace and a rotation of its password recorded as requested (its job is the test's to run). */
async function readyWithRotation(): Promise<{ workspaceId: string; rotationId: string; before: Awaited<ReturnType<Fixture['passwords']>> }> {
  const workspace = newWorkspace();
  await fixture.created(workspace);
  await fixture.waitForStatus(workspace.workspaceId, 'ready');
  const rotationId = randomUUID();
  await fixture.db
    .insertInto('password_rotations')
    .values({ id: rotationId, workspace_id: workspace.workspaceId, status: 'pending', requested_by: workspace.createdBy, completed_at: null, failure_reason: null, new_password: null })
    .execute();
  return { workspaceId: workspace.workspaceId, rotationId, before: await fixture.passwords(workspace.workspaceId) };
}

async function rotationRow(id: string) {
  return fixture.db.selectFrom('password_rotations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe('when the cluster goes away after taking the new password, on the last attempt', () => {
  it('fails the rotation with the reason, and the credentials shown are the password the cluster has', async () => {
    const { workspaceId, rotationId, before } = await readyWithRotation();
    const real = clusterOf();
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });
    const goneAway = { ...real, endSessions: async () => Promise.reject(unreachable) } as WorkspaceCluster;
    try {
      await expect(rotationsWith(goneAway).run({ workspaceId, rotationId }, { final: true })).rejects.toThrow('The workspace database cluster cannot be reached (ECONNREFUSED)');
    } finally {
      await real.close();
    }
    const rotation = await rotationRow(rotationId);
    expect(rotation).toMatchObject({ status: 'failed', failure_reason: 'The workspace database cluster cannot be reached (ECONNREFUSED); request another rotation', new_password: null });
    expect(rotation.completed_at).toBeInstanceOf(Date);

    const after = await fixture.passwords(workspaceId);
    expect(after.owner).not.toBe(before.owner);
    expect(await loginOutcome({ user: after.names.owner, password: after.owner, database: after.names.database })).toBe('ok');
    expect(await loginOutcome({ user: before.names.owner, password: before.owner, database: before.names.database })).toBe('28P01');
  });
});

describe('when the new password is refused at the check', () => {
  it('fails with a reason of its own (not the admin login\'s)', async () => {
    const { workspaceId, rotationId, before } = await readyWithRotation();
    const real = clusterOf();
    // Someone else changes the login's password between the rotation's ALTER ROLE and its check.
    const overwritten = {
      ...real,
      endSessions: async (roles: string[]) => {
        await asSuperuser(`alter role "${before.names.owner}" password 'someone-else-set-this-one'`);
        return real.endSessions(roles);
      },
    } as WorkspaceCluster;
    try {
      await expect(rotationsWith(overwritten).run({ workspaceId, rotationId }, { final: true })).rejects.toThrow();
    } finally {
      await real.close();
    }
    expect(await rotationRow(rotationId)).toMatchObject({
      status: 'failed',
      failure_reason: `The workspace database cluster refused login ${before.names.owner} with the password just set (28P01); request another rotation`,
    });
  });
});

describe('when the rotation job dies right after the cluster took the new password', () => {
  it('keeps the new password sealed with the rotation, and the retry sets that same one and succeeds', async () => {
    const { workspaceId, rotationId, before } = await readyWithRotation();
    const real = clusterOf();
    const dying = {
      ...real,
      setPassword: async (role: string, password: string) => {
        await real.setPassword(role, password);
        throw new Error('the worker died here');
      },
    } as WorkspaceCluster;
    try {
      await expect(rotationsWith(dying).run({ workspaceId, rotationId }, { final: false })).rejects.toThrow();
      const halfway = await rotationRow(rotationId);
      expect(halfway.status).toBe('running');
      expect(halfway.new_password).not.toBeNull();
      const chosen = fixture.secrets.open(halfway.new_password!, { rotationId });
      expect(JSON.stringify(halfway)).not.toContain(chosen);
      const login = { user: before.names.owner, database: before.names.database };
      expect(await loginOutcome({ ...login, password: chosen })).toBe('ok');

      await rotationsWith(real).run({ workspaceId, rotationId }, { final: false });
      expect(await rotationRow(rotationId)).toMatchObject({ status: 'succeeded', new_password: null, failure_reason: null });
      const after = await fixture.passwords(workspaceId);
      expect(after.owner).toBe(chosen);
      expect(await loginOutcome({ ...login, password: chosen })).toBe('ok');
      expect(await loginOutcome({ ...login, password: before.owner })).toBe('28P01');
      expect(lines.join('')).toContain('password rotation attempt failed');
      await expectNowhere([before.owner, chosen]);
    } finally {
      await real.close();
    }
  });
});

describe('when a rotation made no progress for a while and its job is gone', () => {
  it('the reconciler queues it again and it succeeds; one whose job still waits is left alone', async () => {
    const worker = await fixture.startWorker({ RECONCILE_STALLED_AFTER_MS: '1000', RECONCILE_INTERVAL_MS: '3600000' });
    const lost = await readyWithRotation();
    const waiting = await readyWithRotation();
    await fixture.queues.databases.add('password-rotation.requested', { workspaceId: waiting.workspaceId, rotationId: waiting.rotationId }, { jobId: `password-rotation.requested-${waiting.rotationId}-1`, delay: 3_600_000 });
    await query(`update "${fixture.schema}".password_rotations set updated_at = now() - interval '1 hour' where id = any($1)`, [[lost.rotationId, waiting.rotationId]]);

    expect(await worker.reconcileOnce()).toEqual({ provisioning: 0, rotations: 1 });
    const done = await eventually(async () => {
      const row = await rotationRow(lost.rotationId);
      return row.status === 'succeeded' ? row : undefined;
    }, 20_000);
    expect(done).toMatchObject({ generation: 2, new_password: null });
    const after = await fixture.passwords(lost.workspaceId);
    expect(await loginOutcome({ user: after.names.owner, password: after.owner, database: after.names.database })).toBe('ok');
    expect(await loginOutcome({ user: lost.before.names.owner, password: lost.before.owner, database: lost.before.names.database })).toBe('28P01');
    expect(await rotationRow(waiting.rotationId)).toMatchObject({ status: 'pending', generation: 1 });
    expect(fixture.logs.join('')).toContain('database password rotated');
    await expectNowhere([lost.before.owner, after.owner]);
  });
});
