import pg from 'pg';
import pino from 'pino';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { createDatabase, createOutboxRelay, createRedis, databaseLogin } from '@hexa/kit';
import { eventually, loginOutcome, query, testDatabaseUrl, testRedisUrl, testWorkspaceClusterAdminUrl, testWorkspaceClusterSuperuserUrl } from '@hexa/testing';
import { createDatabasesWorker, ensureClusterAdmin, type DatabasesWorker } from '@hexa/databases';
import type { WorkspacesDatabase } from '@hexa/workspaces';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { startWorkers, type Workers } from './workers.js';

// Archive and restore through the API, as the other services hear of them through the outbox: the
// workspace's database logins stop and come back, and its members lose and regain the database's routes.
let stack: Stack;
let workspacesDb: Kysely<WorkspacesDatabase>;
let relayRedis: Redis;
let relay: ReturnType<typeof createOutboxRelay<WorkspacesDatabase>>;
let workers: Workers;
let databasesWorker: DatabasesWorker;
let slug: string;
let owner: string;
let editor: string;

beforeAll(async () => {
  const admin = databaseLogin(testWorkspaceClusterAdminUrl);
  await ensureClusterAdmin({ superuserUrl: testWorkspaceClusterSuperuserUrl, role: admin.role, password: admin.password });
  stack = await startStack({ databasesEnv: { OUTBOX_RELAY_INTERVAL_MS: '100' } });
  workspacesDb = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
  relayRedis = createRedis(testRedisUrl);
  relay = createOutboxRelay({ db: workspacesDb, redis: relayRedis, prefix: stack.queuePrefix });
  relay.relay.start(100);
  workers = await startWorkers(stack);
  databasesWorker = createDatabasesWorker({ config: stack.databasesConfig, log: pino({ level: 'silent' }) });
  await databasesWorker.start();

  owner = await stack.login(ownerLogin.email, ownerLogin.password);
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name: 'Archived Data' } });
  const { id } = created.json<{ slug: string; id: string }>();
  slug = created.json<{ slug: string }>().slug;
  const user = await stack.createUser('editor@example.org', 'MEMBER');
  editor = user.token;
  await query(`insert into "${stack.schemas.membership}".workspace_memberships (workspace_slug, workspace_id, user_id, role) values ($1, $2, $3, 'EDITOR')`, [slug, id, user.id]);
  await eventually(async () => ((await stack.call({ method: 'GET', url: `/api/workspaces/${slug}`, token: owner })).json().status === 'ready' ? true : undefined), 30_000, 100);
}, 120_000);

afterAll(async () => {
  await databasesWorker.close();
  await workers.close();
  await relay.close();
  relayRedis.disconnect();
  await workspacesDb.destroy();
  await stack.close();
});

const credentials = () => stack.call({ method: 'GET', url: `/api/workspaces/${slug}/database/credentials`, token: editor });

describe('when an Admin archives a workspace and an organization Owner restores it, through the API', () => {
  it('stops its database logins and hides the database from its members, then brings both back', async () => {
    const before = (await credentials()).json<{ url: string }>();
    expect(await loginOutcome(before.url)).toBe('ok');

    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${slug}/archive`, token: owner })).statusCode).toBe(200);
    // 28000: the role may not log in.
    await eventually(async () => ((await loginOutcome(before.url)) === '28000' ? true : undefined), 20_000, 100);
    await eventually(async () => ((await credentials()).json().code === 'workspace_not_found' ? true : undefined), 20_000, 100);

    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${slug}/restore`, token: owner })).statusCode).toBe(200);
    const after = await eventually(async () => {
      const answer = await credentials();
      return answer.statusCode === 200 ? answer.json<{ url: string }>() : undefined;
    }, 20_000, 100);
    await eventually(async () => ((await loginOutcome(after.url)) === 'ok' ? true : undefined), 20_000, 100);
  }, 90_000);
});
