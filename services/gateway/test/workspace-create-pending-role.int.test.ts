import { createDatabase, createOutboxRelay, createRedis } from '@hexa/kit';
import { eventually, query, testRedisUrl, testRoleUrl } from '@hexa/testing';
import type { WorkspacesDatabase } from '@hexa/workspaces';
import { startPausableProxy, type PausableProxy } from './pausable-proxy.js';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { startWorkers } from './workers.js';

// Workspaces reaches membership through a hop the test can stop: membership stops answering, as when it is
// slow or down, while the gateway (which signs in and reads members) still reaches it directly.
let stack: Stack;
let membership: PausableProxy;
let owner: string;
beforeAll(async () => {
  membership = await startPausableProxy();
  stack = await startStack({ workspacesEnv: { MEMBERSHIP_URL: membership.url } });
  membership.target = stack.urls.membership;
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
});
afterAll(async () => {
  await stack.close();
  await membership.close();
});

/** The members as the workspace's members page lists them; undefined while membership does not know the workspace yet. */
async function membersOf(slug: string): Promise<{ userId: string; role: string }[] | undefined> {
  const listed = await stack.call({ method: 'GET', url: `/api/workspaces/${slug}/members`, token: owner });
  if (listed.statusCode === 404) return undefined;
  expect(listed.statusCode).toBe(200);
  return (listed.json().items as { userId: string; role: string }[]).map(({ userId, role }) => ({ userId, role }));
}

async function membershipRows(slug: string): Promise<unknown[]> {
  return query(`select user_id, role from "${stack.schemas.membership}".workspace_memberships where workspace_slug = $1`, [slug]);
}

describe('when membership does not answer while a workspace is created', () => {
  it('answers 201 with the role pending, and the worker grants the creator Admin afterwards', async () => {
    membership.hold();
    const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name: 'Granted Later' } });
    expect(created.statusCode).toBe(201);
    const workspace = created.json();
    expect(workspace).toMatchObject({ name: 'Granted Later', role: 'ADMIN', roleStatus: 'pending' });
    expect(membership.held).toBe(1);
    expect(await membershipRows(workspace.slug)).toEqual([]);
    expect(await membersOf(workspace.slug)).toBeUndefined();

    // The workers come up; membership still does not answer workspaces: the grant can only come through the outbox.
    const db = createDatabase<WorkspacesDatabase>({ url: testRoleUrl('workspaces'), schema: stack.schemas.workspaces });
    const redis = createRedis(testRedisUrl);
    const outbox = createOutboxRelay({ db, redis, prefix: stack.queuePrefix });
    const workers = await startWorkers(stack);
    outbox.relay.start(100);
    try {
      const [ownerRow] = await query<{ id: string }>(`select id from "${stack.schemas.membership}".users where email = $1`, [ownerLogin.email]);
      await eventually(async () => ((await membersOf(workspace.slug))?.length ? true : undefined), 20_000);
      expect(await membersOf(workspace.slug)).toEqual([{ userId: ownerRow!.id, role: 'ADMIN' }]);
      expect(await query(`select job_id from "${stack.schemas.membership}".inbox where job_name = 'workspace.created'`)).toEqual([{ job_id: `workspace.created-${workspace.id}` }]);
      expect(membership.held).toBe(1);
    } finally {
      await outbox.close();
      await workers.close();
      await db.destroy();
      redis.disconnect();
    }
  });
});
