import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { databaseLogin } from '@hexa/kit';
import { eventually, flushRedisPrefix, query, testWorkspaceClusterAdminUrl, testWorkspaceClusterSuperuserUrl } from '@hexa/testing';
import { createDatabasesWorker, ensureClusterAdmin, type DatabasesWorker } from '@hexa/databases';
import { createdOnceWithItsAnswer } from './idempotent-create.js';
import { ownerLogin, startStack, type Stack } from './stack.js';

// As idempotency-commit.int.test.ts for workspaces and users: an invitation, a database's retry and a
// password rotation commit their Idempotency-Key's answer in the transaction of their effect, so that a
// request cut off after its commit leaves an answer to replay, never a key a retry could take over after
// the lease to invite, retry or rotate a second time.
let stack: Stack;
let owner: string;
let admin: { token: string; id: string };
let databasesWorker: DatabasesWorker;
beforeAll(async () => {
  const clusterAdmin = databaseLogin(testWorkspaceClusterAdminUrl);
  await ensureClusterAdmin({ superuserUrl: testWorkspaceClusterSuperuserUrl, role: clusterAdmin.role, password: clusterAdmin.password });
  stack = await startStack({ databasesEnv: { OUTBOX_RELAY_INTERVAL_MS: '100' } });
  // The databases worker provisions the workspace databases and rotates their passwords; the stack leaves it to tests.
  databasesWorker = createDatabasesWorker({ config: stack.databasesConfig, log: pino({ level: 'silent' }) });
  await databasesWorker.start();
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
  admin = await stack.createUser('database-admin@example.org', 'MEMBER');
}, 60_000);
afterAll(async () => {
  await databasesWorker.close();
  await stack.close();
  await flushRedisPrefix(stack.queuePrefix);
});

/**
 * A workspace the databases service takes in as the workspaces service's outbox would tell it, with
 * `admin` its Admin; `before` runs first (to make its provisioning fail). Resolves once its database
 * stands as `status`.
 */
async function workspaceDatabase(status: 'ready' | 'failed', before?: (databaseName: string) => Promise<void>): Promise<{ slug: string; workspaceId: string; databaseName: string }> {
  const workspace = { workspaceId: randomUUID(), slug: `database-${randomUUID().slice(0, 8)}`, createdBy: admin.id };
  const databaseName = `${stack.databasesConfig.HEXA_WORKSPACE_DB_PREFIX}${workspace.workspaceId.replace(/-/g, '')}`;
  await query(`insert into "${stack.schemas.membership}".workspace_memberships (workspace_slug, workspace_id, user_id, role) values ($1, $2, $3, 'ADMIN')`, [workspace.slug, workspace.workspaceId, admin.id]);
  await before?.(databaseName);
  await databasesWorker.outbox.queues.databases.add('workspace.created', workspace, { jobId: `workspace.created-${workspace.workspaceId}` });
  await eventually(async () => {
    const answer = await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}/database`, token: admin.token });
    return answer.json().status === status ? true : undefined;
  }, 20_000, 50);
  return { slug: workspace.slug, workspaceId: workspace.workspaceId, databaseName };
}

describe('when an invitation is sent with a key', () => {
  it('commits the answer with the invitation and replays it', async () => {
    const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name: 'Committed Invitation' } });
    expect(created.statusCode).toBe(201);
    const { slug } = created.json<{ slug: string }>();
    const payload = { email: 'invited-once@example.org', role: 'EDITOR' };
    const { body } = await createdOnceWithItsAnswer(stack, owner, { schema: stack.schemas.membership, table: 'invitations' }, { method: 'POST', url: `/api/workspaces/${slug}/invitations`, payload }, 'commit-invitation');
    expect(await query(`select id from "${stack.schemas.membership}".invitations where workspace_slug = $1 and email = $2`, [slug, payload.email])).toEqual([{ id: body.id }]);
  });
});

describe('when a failed workspace database is retried with a key', () => {
  it('commits the answer with the retry and replays it', async () => {
    const superuser = new pg.Client({ connectionString: testWorkspaceClusterSuperuserUrl });
    await superuser.connect();
    try {
      // A login of the database's name that a superuser made: provisioning refuses to take it over, and fails at once.
      const broken = await workspaceDatabase('failed', async (name) => {
        await superuser.query(`create role "${name}" superuser`);
      });
      await superuser.query(`drop role "${broken.databaseName}"`);
      const generation = async () => (await query<{ generation: number }>(`select generation from "${stack.schemas.databases}".workspace_databases where slug = $1`, [broken.slug]))[0]!.generation;
      const before = await generation();

      const { body } = await createdOnceWithItsAnswer(
        stack,
        admin.token,
        { schema: stack.schemas.databases, table: 'workspace_databases' },
        { method: 'POST', url: `/api/workspaces/${broken.slug}/database/retry` },
        'commit-retry',
      );
      expect(body).toMatchObject({ status: 'provisioning', dbName: broken.databaseName });
      // Provisioning was started again once: each retry starts a new generation.
      expect(await generation()).toBe(before + 1);
      await eventually(async () => ((await stack.call({ method: 'GET', url: `/api/workspaces/${broken.slug}/database`, token: admin.token })).json().status === 'ready' ? true : undefined), 20_000, 50);
    } finally {
      await superuser.end();
    }
  }, 60_000);
});

describe('when a database password rotation is requested with a key', () => {
  it('commits the answer with the rotation and replays it', async () => {
    const { slug, workspaceId } = await workspaceDatabase('ready');
    const { body } = await createdOnceWithItsAnswer(
      stack,
      admin.token,
      { schema: stack.schemas.databases, table: 'password_rotations' },
      { method: 'POST', url: `/api/workspaces/${slug}/database/password-rotations` },
      'commit-rotation',
    );
    expect(await query(`select id from "${stack.schemas.databases}".password_rotations where workspace_id = $1`, [workspaceId])).toEqual([{ id: body.id }]);
    // The one rotation runs to its end before the worker closes.
    await eventually(async () => ((await stack.call({ method: 'GET', url: `/api/workspaces/${slug}/database/password-rotations/${body.id as string}`, token: admin.token })).json().status === 'succeeded' ? true : undefined), 20_000, 50);
  }, 60_000);
});
