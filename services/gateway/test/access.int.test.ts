import { eventually, tokensOf } from '@hexa/testing';
import { ownerLogin, startStack, type Stack } from './stack.js';

// A cache that would hold a role for ten minutes: only an announcement can make the gateway see a change in time.
const tenMinutes = 600_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ accessCacheTtlMs: tenMinutes });
});
afterAll(() => stack.close());

/** Grants a role the way the platform does: through membership, which announces the change. */
async function makeAdmin(slug: string, workspaceId: string, userId: string): Promise<void> {
  const token = tokensOf('workspaces').sign({ audience: 'membership', operation: 'PUT /internal/workspaces/{slug}/creator/{userId}', caller: { kind: 'service', service: 'workspaces' } });
  const response = await stack.membership.inject({
    method: 'PUT',
    url: `/internal/workspaces/${slug}/creator/${userId}`,
    headers: { 'x-hexa-internal': token },
    payload: { workspaceId },
  });
  expect(response.json()).toEqual({ outcome: 'granted' });
}

describe('when a member\'s access changes while the gateway has it cached', () => {
  it('answers with the new role at once, long before the cache would expire', async () => {
    const owner = await stack.login(ownerLogin.email, ownerLogin.password);
    const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name: 'Cache Watch' } });
    expect(created.statusCode).toBe(201);
    const workspace = created.json<{ id: string; slug: string }>();
    const member = await stack.createUser('mira@example.org', 'MEMBER');

    // Both answers below are now cached: a plain member may not create workspaces and cannot see this one.
    const refused = await stack.call({ method: 'POST', url: '/api/workspaces', token: member.token, payload: { name: 'Not Yet' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden' });
    const hidden = await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}`, token: member.token });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toMatchObject({ code: 'workspace_not_found' });

    await makeAdmin(workspace.slug, workspace.id, member.id);

    const seen = await eventually(async () => {
      const response = await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}`, token: member.token });
      return response.statusCode === 200 ? response : undefined;
    }, 5_000);
    expect(seen.json()).toMatchObject({ slug: workspace.slug, role: 'ADMIN', roleSource: 'member' });
    // Admin of one workspace now: the member may create workspaces too.
    const allowed = await stack.call({ method: 'POST', url: '/api/workspaces', token: member.token, payload: { name: 'Now Allowed' } });
    expect(allowed.statusCode).toBe(201);
    expect(allowed.json()).toMatchObject({ slug: 'now-allowed', role: 'ADMIN' });
  });
});
