import { loadDocument } from '@hexa/contract';
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

type Node = Record<string, unknown>;
const isInternal = (node: unknown) => (node as Node | undefined)?.['x-internal'] === true;
/** Every `$ref` anywhere in a document. */
const refsIn = (node: unknown): string[] =>
  node === null || typeof node !== 'object'
    ? []
    : Object.entries(node as Node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsIn(value)));

describe('when a client reads the public OpenAPI document', () => {
  // What the full contract marks internal: none of it may be served.
  const full = loadDocument() as { paths: Record<string, Record<string, unknown>>; tags: Node[]; components: { schemas: Record<string, unknown> } };
  const internalPaths = Object.keys(full.paths).filter((path) => Object.values(full.paths[path]!).some(isInternal));
  const internalTags = full.tags.filter(isInternal).map((tag) => tag.name);
  const internalSchemas = Object.keys(full.components.schemas).filter((name) => isInternal(full.components.schemas[name]));

  it('leaves out every internal operation, tag and schema, and the job contract', async () => {
    expect(internalTags).toEqual(['internal']);
    expect(internalPaths).toContain('/internal/access/{userId}');
    expect(internalSchemas).toContain('Access');

    const response = await stack.call({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const served = response.json<{ paths: Record<string, Record<string, Node>>; tags: Node[]; components: { schemas: Record<string, unknown> } } & Node>();
    expect(Object.keys(served.paths).filter((path) => path.startsWith('/internal/'))).toEqual([]);
    expect(Object.values(served.paths).flatMap((item) => Object.values(item)).filter(isInternal)).toEqual([]);
    expect(Object.keys(served)).not.toContain('x-jobs');
    expect(served.tags.map((tag) => tag.name)).not.toContain('internal');
    expect(served.tags.filter(isInternal)).toEqual([]);
    expect(Object.keys(served.components.schemas).filter((name) => internalSchemas.includes(name))).toEqual([]);
    expect(JSON.stringify(served)).not.toContain('x-internal');
    // Nothing public points at a schema that was left out.
    const dangling = refsIn(served).filter((ref) => {
      const [, section, name] = ref.split('/').slice(1);
      return (served.components as Record<string, Record<string, unknown> | undefined>)[section!]?.[name!] === undefined;
    });
    expect(dangling).toEqual([]);
    // The public operations are all there.
    expect(Object.keys(served.paths)).toEqual(Object.keys(full.paths).filter((path) => !internalPaths.includes(path)));
  });

  it('cannot reach an internal operation through the gateway: 404 problem+json', async () => {
    const owner = await stack.login(ownerLogin.email, ownerLogin.password);
    const me = (await stack.call({ method: 'GET', url: '/api/me', token: owner })).json<{ id: string }>();
    const before = stack.received.length;
    for (const [method, url] of [
      ['GET', `/api/internal/access/${me.id}`],
      ['GET', '/api/internal/workspaces/anything'],
      ['PUT', `/api/internal/workspaces/anything/creator/${me.id}`],
    ] as const) {
      const response = await stack.call({ method, url, token: owner, ...(method === 'PUT' ? { payload: {} } : {}) });
      expect([url, response.statusCode, response.headers['content-type']]).toEqual([url, 404, expect.stringContaining('application/problem+json')]);
      expect(response.json()).toMatchObject({ status: 404, code: 'route_not_found' });
    }
    // Refused at the door: no service saw any of them.
    expect(stack.received.slice(before).filter((request) => request.url.includes('/internal/'))).toEqual([]);
  });
});
