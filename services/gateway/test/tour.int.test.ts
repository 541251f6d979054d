import { query } from '@hexa/testing';
import { ownerLogin, startStack, type Stack } from './stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('when the owner follows the README tour through the gateway', () => {
  it('signs in, reads /me, creates a workspace, lists and reads it', async () => {
    const login = await stack.call({ method: 'POST', url: '/api/auth/login', payload: ownerLogin });
    expect(login.statusCode).toBe(200);
    const { accessToken, user } = login.json();
    expect(user).toMatchObject({ email: ownerLogin.email, organizationRole: 'OWNER' });
    expect(String(login.headers['set-cookie'])).toMatch(/hexa_refresh=.*HttpOnly/);

    const me = await stack.call({ method: 'GET', url: '/api/me', token: accessToken });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: user.id, organizationRole: 'OWNER' });

    const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: accessToken, payload: { name: 'Malaria Burkina Faso', countries: ['BF'] } });
    expect(created.statusCode).toBe(201);
    const workspace = created.json();
    expect(workspace).toMatchObject({
      slug: 'malaria-burkina-faso',
      name: 'Malaria Burkina Faso',
      status: 'provisioning',
      role: 'ADMIN',
      countries: [{ code: 'BF', name: 'Burkina Faso' }],
    });
    expect(workspace.permissions).toContain('members:manage');
    expect(workspace.description).toContain('# Malaria Burkina Faso');
    expect(created.headers.location).toBe('/api/workspaces/malaria-burkina-faso');

    // The creator is the workspace's Admin before the answer is sent.
    const rows = await query(`select role from "${stack.schemas.membership}".workspace_memberships where workspace_slug = $1 and user_id = $2`, ['malaria-burkina-faso', user.id]);
    expect(rows).toEqual([{ role: 'ADMIN' }]);

    const list = await stack.call({ method: 'GET', url: '/api/workspaces?query=malaria', token: accessToken });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ page: 1, perPage: 20, totalItems: 1, totalPages: 1, items: [{ slug: 'malaria-burkina-faso', role: 'ADMIN' }] });

    const one = await stack.call({ method: 'GET', url: '/api/workspaces/malaria-burkina-faso', token: accessToken });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ slug: 'malaria-burkina-faso', role: 'ADMIN', roleSource: 'member' });
  });

  it('refreshes with the cookie and signs out through the gateway', async () => {
    const login = await stack.call({ method: 'POST', url: '/api/auth/login', payload: ownerLogin });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const refreshed = await stack.call({ method: 'POST', url: '/api/auth/refresh', headers: { cookie } });
    expect(refreshed.statusCode).toBe(200);
    const newCookie = String(refreshed.headers['set-cookie']).split(';')[0]!;
    expect(newCookie).not.toBe(cookie);
    const out = await stack.call({ method: 'POST', url: '/api/auth/logout', headers: { cookie: newCookie } });
    expect(out.statusCode).toBe(204);
    const again = await stack.call({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: newCookie } });
    expect(again.statusCode).toBe(401);
  });
});

describe('when a client asks for the platform endpoints', () => {
  it('answers health, readiness with each dependency, the OpenAPI document and the interactive reference', async () => {
    expect((await stack.call({ method: 'GET', url: '/api/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await stack.call({ method: 'GET', url: '/api/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { redis: 'up', membership: 'up', workspaces: 'up', databases: 'up', runner: 'up', files: 'up' } });
    const document = await stack.call({ method: 'GET', url: '/api/openapi.json' });
    expect(document.json()).toMatchObject({ openapi: '3.1.0', paths: { '/workspaces': {} } });
    const docs = await stack.call({ method: 'GET', url: '/api/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
    const metrics = await stack.call({ method: 'GET', url: '/api/metrics' });
    expect(metrics.body).toContain('hexa_http_request_duration_seconds');
    // Each service exposes its own; workspaces adds the depth of the queues its outbox feeds and the outbox lag.
    const workspacesMetrics = (await stack.workspaces.inject({ method: 'GET', url: '/metrics' })).body;
    expect(workspacesMetrics).toMatch(/^hexa_queue_jobs\{queue="membership",state="waiting",service="workspaces"\} \d+$/m);
    expect(workspacesMetrics).toMatch(/^hexa_queue_jobs\{queue="databases",state="failed",service="workspaces"\} \d+$/m);
    expect(workspacesMetrics).toMatch(/^hexa_outbox_lag_seconds\{service="workspaces"\} [\d.]+$/m);
  });
});
