import type { Redis } from 'ioredis';
import { createDatabase, createOutboxRelay, createRedis, createWorker } from '@hexa/kit';
import { eventually, flushRedisPrefix, testDatabaseUrl, testRedisUrl } from '@hexa/testing';
import { createAuditService, createMemberRolesService, createProvisioningService, workspacesProcessors, type WorkspacesDatabase } from '@hexa/workspaces';
import { startStack, type Stack } from './stack.js';
import { workspaceWithPersonas, type Persona, type PersonaWorkspace } from './workspace-personas.js';

// The whole path of an audit entry: recorded in the change's transaction, delivered by the workspaces
// worker's relay, kept by its consumer, read through the gateway.
let stack: Stack;
let workspace: PersonaWorkspace;
let db: ReturnType<typeof createDatabase<WorkspacesDatabase>>;
let connections: Redis[];
let outbox: ReturnType<typeof createOutboxRelay<WorkspacesDatabase>>;
let worker: ReturnType<typeof createWorker>;

beforeAll(async () => {
  stack = await startStack();
  db = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
  connections = [createRedis(testRedisUrl), createRedis(testRedisUrl, 'worker')];
  outbox = createOutboxRelay({ db, redis: connections[0]!, prefix: stack.queuePrefix, verifyAfterMs: 0 });
  worker = createWorker('workspaces', workspacesProcessors({ audit: createAuditService({ db }), provisioning: createProvisioningService({ db }), memberRoles: createMemberRolesService({ db }) }), {
    connection: connections[1]!,
    prefix: stack.queuePrefix,
  });
  outbox.relay.start(100);
  workspace = await workspaceWithPersonas(stack, 'Audited');
});
afterAll(async () => {
  await worker.close();
  await outbox.close();
  for (const connection of connections) connection.disconnect();
  await db.destroy();
  await flushRedisPrefix(stack.queuePrefix);
  await stack.close();
});

async function as(persona: Persona, method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE', path: string, options: { payload?: object; headers?: Record<string, string> } = {}) {
  const response = await stack.call({ method, url: `/api/workspaces/${workspace.slug}${path}`, token: workspace.tokens[persona], ...options });
  return { status: response.statusCode, body: response.json() };
}

interface Entry { id: string; action: string; actor: { kind: string; userId?: string }; target?: string; before?: unknown; after?: unknown; at: string }

/** The trail once it holds `count` entries (the worker keeps them a moment after each commit). */
async function trail(count: number, query = 'perPage=100'): Promise<Entry[]> {
  return eventually(async () => {
    const answer = await as('admin', 'GET', `/audit?${query}`);
    expect(answer.status).toBe(200);
    return answer.body.items.length >= count ? (answer.body.items as Entry[]) : undefined;
  });
}

describe('when a workspace is created and changed', () => {
  it('records who did what and when, newest first, with the before and after of settings and configuration', async () => {
    expect(await as('admin', 'PATCH', '', { payload: { name: 'Audited Twice', countries: ['BF'] } })).toMatchObject({ status: 200 });
    expect(await as('admin', 'PATCH', '', { payload: { name: 'Audited Twice', dockerImage: 'python:3.12' } })).toMatchObject({ status: 200 });
    expect(await as('editor', 'PUT', '/description', { payload: { markdown: '# Short' } })).toMatchObject({ status: 200 });
    expect(await as('admin', 'PUT', '/configuration/max_rows', { payload: { value: 10 } })).toMatchObject({ status: 200 });
    const { headers } = await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}/configuration`, token: workspace.tokens.admin });
    expect(await as('organizationAdmin', 'PUT', '/configuration', { payload: { properties: { max_rows: 20, region: 'sahel' } }, headers: { 'if-match': String(headers.etag) } })).toMatchObject({ status: 200 });
    expect(await as('admin', 'DELETE', '/configuration/region')).toMatchObject({ status: 200 });
    // Refused changes leave no trace.
    expect(await as('admin', 'PUT', '/configuration/db_password', { payload: { value: 'hunter2' } })).toMatchObject({ status: 400 });
    expect(await as('viewer', 'PATCH', '', { payload: { name: 'Nope' } })).toMatchObject({ status: 403 });

    const entries = await trail(8);
    const admin = { kind: 'user', userId: workspace.userIds.admin };
    const organizationAdmin = { kind: 'user', userId: workspace.userIds.organizationAdmin };
    const shown = entries.map(({ id: _id, at: _at, ...rest }) => rest);
    // The two keys of one replacement share a transaction; their relative order is not part of the contract.
    const replacement = shown.slice(1, 3).sort((a, b) => String(a.target).localeCompare(String(b.target)));
    expect([shown[0], ...replacement, ...shown.slice(3)]).toEqual([
      { action: 'configuration.property-deleted', actor: admin, target: 'region', before: 'sahel' },
      { action: 'configuration.property-set', actor: organizationAdmin, target: 'max_rows', before: 10, after: 20 },
      { action: 'configuration.property-set', actor: organizationAdmin, target: 'region', after: 'sahel' },
      { action: 'configuration.property-set', actor: admin, target: 'max_rows', after: 10 },
      { action: 'workspace.description-changed', actor: { kind: 'user', userId: workspace.userIds.editor }, before: { characters: expect.any(Number) }, after: { characters: 7 } },
      { action: 'workspace.settings-changed', actor: admin, before: { dockerImage: null }, after: { dockerImage: 'python:3.12' } },
      { action: 'workspace.settings-changed', actor: admin, before: { name: 'Audited', countries: [] }, after: { name: 'Audited Twice', countries: ['BF'] } },
      { action: 'workspace.created', actor: { kind: 'user', userId: workspace.userIds.owner }, after: { name: 'Audited', countries: [], dockerImage: null } },
    ]);
    const times = entries.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(JSON.stringify(entries)).not.toContain('hunter2');
  });

  it('records archive and restore, with who did each', async () => {
    expect(await as('admin', 'POST', '/archive')).toMatchObject({ status: 200 });
    expect(await as('organizationAdmin', 'POST', '/restore')).toMatchObject({ status: 200 });
    const [restored, archived] = await trail(10);
    expect(restored).toMatchObject({ action: 'workspace.restored', actor: { kind: 'user', userId: workspace.userIds.organizationAdmin }, before: { archivedAt: expect.any(String) } });
    expect(archived).toMatchObject({ action: 'workspace.archived', actor: { kind: 'user', userId: workspace.userIds.admin } });
  });
});

describe('when an Admin pages through the trail', () => {
  it('answers pages of the newest entries with the totals, and older ones with before', async () => {
    const all = await trail(10);
    const first = await as('admin', 'GET', '/audit?perPage=3');
    expect(first.body).toMatchObject({ page: 1, perPage: 3, totalItems: all.length, totalPages: Math.ceil(all.length / 3), totalItemsCapped: false });
    expect(first.body.items).toEqual(all.slice(0, 3));
    expect((await as('admin', 'GET', '/audit?perPage=3&page=2')).body.items).toEqual(all.slice(3, 6));
    const older = await as('admin', 'GET', `/audit?before=${encodeURIComponent(all[2]!.at)}`);
    expect(older.body.items).toEqual(all.filter((entry) => Date.parse(entry.at) < Date.parse(all[2]!.at)));
  });

  it('refuses pages past the counted window and malformed parameters', async () => {
    expect(await as('admin', 'GET', '/audit?perPage=100&page=101')).toMatchObject({ status: 400, body: { code: 'invalid_input', errors: [{ field: 'querystring/page' }] } });
    expect(await as('admin', 'GET', '/audit?before=yesterday')).toMatchObject({ status: 400, body: { code: 'invalid_input' } });
    expect(await as('admin', 'GET', '/audit?perPage=101')).toMatchObject({ status: 400 });
  });

  it('answers 403 to Editors and Viewers and 404 to outsiders', async () => {
    expect(await as('editor', 'GET', '/audit')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await as('viewer', 'GET', '/audit')).toMatchObject({ status: 403 });
    expect(await as('outsider', 'GET', '/audit')).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
    expect(await as('organizationAdmin', 'GET', '/audit')).toMatchObject({ status: 200 });
  });
});
