import { startStack, type Stack } from './stack.js';
import { workspaceWithPersonas, type Persona, type PersonaWorkspace } from './workspace-personas.js';

let stack: Stack;
let workspace: PersonaWorkspace;
beforeAll(async () => {
  stack = await startStack();
  workspace = await workspaceWithPersonas(stack, 'Configured');
});
afterAll(() => stack.close());

interface Answer {
  status: number;
  etag: string | undefined;
  body: { properties?: Record<string, unknown>; code?: string; detail?: string; errors?: { field: string; message: string }[] };
}

async function as(persona: Persona, method: 'GET' | 'PUT' | 'DELETE', path = '', options: { payload?: unknown; ifMatch?: string; slug?: string } = {}): Promise<Answer> {
  const response = await stack.call({
    method,
    url: `/api/workspaces/${options.slug ?? workspace.slug}/configuration${path}`,
    token: workspace.tokens[persona],
    headers: options.ifMatch === undefined ? {} : { 'if-match': options.ifMatch },
    ...(options.payload === undefined ? {} : { payload: options.payload as object }),
  });
  return { status: response.statusCode, etag: response.headers.etag as string | undefined, body: response.json() };
}

/** Replaces everything, based on the current ETag. */
async function reset(properties: Record<string, unknown>): Promise<string> {
  const current = await as('admin', 'GET');
  const answer = await as('admin', 'PUT', '', { payload: { properties }, ifMatch: current.etag! });
  expect(answer.status).toBe(200);
  return answer.etag!;
}

describe('when a member reads the configuration', () => {
  it('answers every property and an ETag to every role', async () => {
    await reset({ DHIS2_URL: 'https://dhis2.example.org', feature_maps: true, default_parameters: { year: 2026, districts: ['a', 'b'] } });
    for (const persona of ['viewer', 'editor', 'admin', 'organizationAdmin'] as const) {
      const answer = await as(persona, 'GET');
      expect(answer.status).toBe(200);
      expect(answer.etag).toMatch(/^"configuration-\d+"$/);
      expect(answer.body).toEqual({ properties: { DHIS2_URL: 'https://dhis2.example.org', feature_maps: true, default_parameters: { year: 2026, districts: ['a', 'b'] } } });
    }
    expect(await as('outsider', 'GET')).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
  });
});

describe('when an Admin replaces the whole configuration', () => {
  it('needs If-Match: 428 without it, 412 with a stale one (with the current ETag), and nothing changes', async () => {
    const etag = await reset({ a: 1 });
    const missing = await as('admin', 'PUT', '', { payload: { properties: { a: 2 } } });
    expect([missing.status, missing.body.code]).toEqual([428, 'precondition_required']);
    const stale = await as('admin', 'PUT', '', { payload: { properties: { a: 3 } }, ifMatch: '"configuration-0"' });
    expect([stale.status, stale.body.code, stale.etag]).toEqual([412, 'precondition_failed', etag]);
    const weak = await as('admin', 'PUT', '', { payload: { properties: { a: 3 } }, ifMatch: `W/${etag}` });
    expect(weak.status).toBe(412);
    expect((await as('viewer', 'GET')).body.properties).toEqual({ a: 1 });
  });

  it('replaces everything with the current ETag and answers the new one; the same content keeps the ETag', async () => {
    const etag = await reset({ a: 1, b: 'two' });
    const changed = await as('admin', 'PUT', '', { payload: { properties: { b: 'deux', c: [3] } }, ifMatch: etag });
    expect(changed).toMatchObject({ status: 200, body: { properties: { b: 'deux', c: [3] } } });
    expect(changed.etag).not.toBe(etag);
    const same = await as('admin', 'PUT', '', { payload: { properties: { c: [3], b: 'deux' } }, ifMatch: changed.etag! });
    expect(same.etag).toBe(changed.etag);
    expect((await as('admin', 'PUT', '', { payload: { properties: {} }, ifMatch: '*' })).body.properties).toEqual({});
  });

  it('refuses keys that are not identifiers, secret-looking keys (pointing to connections), null values and too many keys', async () => {
    const etag = await reset({});
    const badKey = await as('admin', 'PUT', '', { payload: { properties: { '1abc': 1, 'with-dash': 2 } }, ifMatch: etag });
    expect([badKey.status, badKey.body.code]).toEqual([400, 'invalid_input']);
    expect(badKey.body.errors?.map((error) => error.field)).toEqual(expect.arrayContaining(['body/properties']));

    const secrets = await as('admin', 'PUT', '', { payload: { properties: { db_password: 'x', ApiKey: 'y', monkey: 'fine' } }, ifMatch: etag });
    expect(secrets.status).toBe(400);
    expect(secrets.body.errors).toEqual([
      { field: 'body/properties/db_password', message: '"db_password" looks like the name of a secret; keep secrets in the workspace\'s connections, not in its configuration' },
      { field: 'body/properties/ApiKey', message: '"ApiKey" looks like the name of a secret; keep secrets in the workspace\'s connections, not in its configuration' },
    ]);

    const nulls = await as('admin', 'PUT', '', { payload: { properties: { a: null } }, ifMatch: etag });
    expect(nulls.body.errors).toEqual([{ field: 'body/properties/a', message: 'must NOT be valid' }]);

    const many = Object.fromEntries(Array.from({ length: 201 }, (_, index) => [`k${index}`, index]));
    const tooMany = await as('admin', 'PUT', '', { payload: { properties: many }, ifMatch: etag });
    expect(tooMany.body.errors).toEqual([{ field: 'body/properties', message: 'must NOT have more than 200 properties' }]);
    expect((await as('viewer', 'GET')).body.properties).toEqual({});
  });

  it('refuses more than 64 KiB in all', async () => {
    const etag = await reset({});
    const big = await as('admin', 'PUT', '', { payload: { properties: { a: 'x'.repeat(40_000), b: 'y'.repeat(40_000) } }, ifMatch: etag });
    expect([big.status, big.body.errors]).toEqual([400, [{ field: 'body', message: 'the configuration would take 80015 bytes as JSON; at most 65536' }]]);
  });

  it('answers 403 to Editors and Viewers', async () => {
    const { etag } = await as('admin', 'GET');
    for (const persona of ['editor', 'viewer'] as const) {
      expect(await as(persona, 'PUT', '', { payload: { properties: {} }, ifMatch: etag! })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    }
  });
});

describe('when an Admin changes one property', () => {
  it('creates, changes and removes it, each time with a new ETag', async () => {
    await reset({ keep: 'me' });
    const created = await as('admin', 'PUT', '/max_rows', { payload: { value: 1000 } });
    expect(created).toMatchObject({ status: 200, body: { properties: { keep: 'me', max_rows: 1000 } } });
    const changed = await as('admin', 'PUT', '/max_rows', { payload: { value: { soft: 1000, hard: 5000 } } });
    expect(changed.body.properties).toEqual({ keep: 'me', max_rows: { soft: 1000, hard: 5000 } });
    expect(changed.etag).not.toBe(created.etag);
    const removed = await as('admin', 'DELETE', '/max_rows');
    expect(removed).toMatchObject({ status: 200, body: { properties: { keep: 'me' } } });
    expect(await as('admin', 'DELETE', '/max_rows')).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('honours If-Match when given: a stale ETag is a 412 and changes nothing', async () => {
    const etag = await reset({ a: 1 });
    await as('admin', 'PUT', '/b', { payload: { value: 2 } });
    expect(await as('admin', 'PUT', '/a', { payload: { value: 10 }, ifMatch: etag })).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    expect(await as('admin', 'DELETE', '/a', { ifMatch: etag })).toMatchObject({ status: 412 });
    const { etag: fresh } = await as('admin', 'GET');
    expect(await as('admin', 'PUT', '/a', { payload: { value: 10 }, ifMatch: fresh! })).toMatchObject({ status: 200, body: { properties: { a: 10, b: 2 } } });
  });

  it('refuses a secret-looking key, a key that is not an identifier, a null value and a missing value', async () => {
    const secret = await as('admin', 'PUT', '/API_KEY', { payload: { value: 'x' } });
    expect([secret.status, secret.body.errors]).toEqual([400, [{ field: 'params/key', message: '"API_KEY" looks like the name of a secret; keep secrets in the workspace\'s connections, not in its configuration' }]]);
    expect((await as('admin', 'PUT', '/9lives', { payload: { value: 1 } })).body.errors).toEqual([{ field: 'params/key', message: 'must match pattern "^[A-Za-z_][A-Za-z0-9_]{0,63}$"' }]);
    expect((await as('admin', 'PUT', `/${'k'.repeat(65)}`, { payload: { value: 1 } })).status).toBe(400);
    expect((await as('admin', 'PUT', '/a', { payload: { value: null } })).body.errors).toEqual([{ field: 'body/value', message: 'must NOT be valid' }]);
    expect((await as('admin', 'PUT', '/a', { payload: {} })).body.errors).toEqual([{ field: 'body/value', message: '"value" is required' }]);
  });

  it('refuses a value nested too deep, and the 201st key', async () => {
    let deep: unknown = 1;
    for (let level = 0; level < 25; level += 1) deep = [deep];
    expect((await as('admin', 'PUT', '/deep', { payload: { value: deep } })).body.errors).toEqual([{ field: 'body/value', message: 'the value nests deeper than 20 levels' }]);
    await reset(Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`k${index}`, index])));
    expect((await as('admin', 'PUT', '/one_more', { payload: { value: 1 } })).body.errors).toEqual([{ field: 'body', message: 'the configuration would hold 201 properties; at most 200' }]);
    expect((await as('admin', 'PUT', '/k1', { payload: { value: 'changed' } })).status).toBe(200);
  });

  it('answers 403 to Editors and Viewers, and 404 to outsiders', async () => {
    for (const persona of ['editor', 'viewer'] as const) {
      expect(await as(persona, 'PUT', '/a', { payload: { value: 1 } })).toMatchObject({ status: 403 });
      expect(await as(persona, 'DELETE', '/a')).toMatchObject({ status: 403 });
    }
    expect(await as('outsider', 'DELETE', '/a')).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
  });
});

describe('when two Admins write at the same time', () => {
  it('lets exactly one of two replacements based on the same ETag win; the other gets 412 and nothing is lost', async () => {
    for (let round = 0; round < 5; round += 1) {
      const etag = await reset({ shared: 'base' });
      const [first, second] = await Promise.all([
        as('admin', 'PUT', '', { payload: { properties: { shared: 'first', by_first: true } }, ifMatch: etag }),
        as('organizationAdmin', 'PUT', '', { payload: { properties: { shared: 'second', by_second: true } }, ifMatch: etag }),
      ]);
      const statuses = [first.status, second.status].sort();
      expect(statuses).toEqual([200, 412]);
      const winner = first.status === 200 ? first : second;
      const stored = await as('viewer', 'GET');
      expect(stored.body.properties).toEqual(winner.body.properties);
      expect(stored.etag).toBe(winner.etag);
    }
  });

  it('keeps every one of many concurrent single-key writes', async () => {
    await reset({});
    const writes = Array.from({ length: 20 }, (_, index) => as(index % 2 === 0 ? 'admin' : 'organizationAdmin', 'PUT', `/k${index}_flag`, { payload: { value: index } }));
    const answers = await Promise.all(writes);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const stored = await as('viewer', 'GET');
    expect(stored.body.properties).toEqual(Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`k${index}_flag`, index])));
    // Each write made its own version: twenty different ETags.
    expect(new Set(answers.map((answer) => answer.etag)).size).toBe(20);
  });
});
