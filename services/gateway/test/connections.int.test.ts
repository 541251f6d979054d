import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createDatabase, createInternalTokens, createServiceClient, databaseLogin, parseKeyring } from '@hexa/kit';
import { ensureClusterAdmin } from '@hexa/databases';
import { createConnectionsService, createWorkspaceDirectory, type FilesDatabase } from '@hexa/files';
import { query, serviceKeyEnv, testWorkspaceClusterAdminUrl, testWorkspaceClusterSuperuserUrl } from '@hexa/testing';
import { loadConfig, commonConfig } from '@hexa/kit';
import { startStack, type Stack } from './stack.js';
import { workspaceWithPersonas, type PersonaWorkspace } from './workspace-personas.js';

let stack: Stack;
let team: PersonaWorkspace;
const logLines: string[] = [];
const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const cluster = new URL(testWorkspaceClusterAdminUrl);
const login = databaseLogin(testWorkspaceClusterAdminUrl);

beforeAll(async () => {
  // The workspace cluster (password logins over TCP): the connection test signs in for real.
  await ensureClusterAdmin({ superuserUrl: testWorkspaceClusterSuperuserUrl, role: login.role, password: login.password });
  // Every log line of the files service, at its most talkative, to search for secrets.
  stack = await startStack({ filesEnv: { HEXA_CONNECTIONS_ENCRYPTION_KEY: keyA, LOG_LEVEL: 'trace' }, filesLogDestination: { write: (line: string) => void logLines.push(line) } });
  team = await workspaceWithPersonas(stack, 'Connections Project');
});
afterAll(() => stack.close());

const url = (rest = '') => `/api/workspaces/${team.slug}/connections${rest}`;
const warehouse = () => ({
  name: 'Data Warehouse',
  type: 'POSTGRESQL',
  description: 'The cluster of workspace databases',
  fields: [
    { code: 'host', value: cluster.hostname, secret: false },
    { code: 'port', value: cluster.port, secret: false },
    { code: 'dbName', value: 'postgres', secret: false },
    { code: 'username', value: login.role, secret: false },
    { code: 'password', value: login.password, secret: true },
  ],
});

async function storedRows(): Promise<string> {
  const rows = await query(`select * from "${stack.schemas.files}".connections`);
  return JSON.stringify(rows);
}

describe('when an Admin creates a PostgreSQL connection', () => {
  let created: { slug: string; fields: { code: string; value: string | null; secret: boolean; env: string }[] };

  it('answers 201 with the slug from the name, every field with its run variable, the secret masked', async () => {
    const answer = await stack.call({ method: 'POST', url: url(), token: team.tokens.admin, payload: warehouse() });
    expect(answer.statusCode).toBe(201);
    created = answer.json();
    expect(created).toMatchObject({ slug: 'data-warehouse', name: 'Data Warehouse', type: 'POSTGRESQL' });
    expect(created.fields).toEqual([
      { code: 'host', secret: false, value: cluster.hostname, env: 'DATA_WAREHOUSE_HOST' },
      { code: 'port', secret: false, value: cluster.port, env: 'DATA_WAREHOUSE_PORT' },
      { code: 'dbName', secret: false, value: 'postgres', env: 'DATA_WAREHOUSE_DB_NAME' },
      { code: 'username', secret: false, value: login.role, env: 'DATA_WAREHOUSE_USERNAME' },
      { code: 'password', secret: true, value: null, env: 'DATA_WAREHOUSE_PASSWORD' },
    ]);
    expect(answer.body).not.toContain(login.password);
  });

  it('keeps the secret encrypted at rest: the password is nowhere in the database in clear, and the audit entry names no value', async () => {
    const rows = await storedRows();
    expect(rows).toContain('"sealed":"v2:k1:');
    expect(rows).not.toContain(login.password);
    const audit = await query<{ payload: { action: string; target: string } }>(`select payload from "${stack.schemas.files}".outbox where job_name = 'audit.recorded'`);
    expect(audit.map((row) => [row.payload.action, row.payload.target])).toContainEqual(['connection.created', 'data-warehouse']);
    expect(JSON.stringify(audit)).not.toContain(login.password);
  });

  it('never shows the secret in list or get, to Editors and Admins alike; Viewers and outsiders get 403 / 404', async () => {
    for (const persona of ['editor', 'admin'] as const) {
      const list = await stack.call({ method: 'GET', url: url(), token: team.tokens[persona] });
      expect(list.statusCode).toBe(200);
      expect(list.json().items).toHaveLength(1);
      expect(list.body).not.toContain(login.password);
      const one = await stack.call({ method: 'GET', url: url('/data-warehouse'), token: team.tokens[persona] });
      expect(one.json().fields.find((field: { code: string }) => field.code === 'password')).toEqual({ code: 'password', secret: true, value: null, env: 'DATA_WAREHOUSE_PASSWORD' });
      expect(one.body).not.toContain(login.password);
    }
    expect((await stack.call({ method: 'GET', url: url(), token: team.tokens.viewer })).statusCode).toBe(403);
    expect((await stack.call({ method: 'GET', url: url(), token: team.tokens.outsider })).statusCode).toBe(404);
    expect((await stack.call({ method: 'POST', url: url(), token: team.tokens.editor, payload: warehouse() })).json()).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('tests it for real: an Editor signs in to the cluster with it (ok), and a wrong password reports the server\'s refusal without the password', async () => {
    const good = await stack.call({ method: 'POST', url: url('/data-warehouse/test'), token: team.tokens.editor });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toMatchObject({ ok: true, message: expect.stringMatching(/^Connected: PostgreSQL/) });

    const bad = warehouse();
    bad.name = 'Broken Warehouse';
    bad.fields[4]!.value = wrongPassword;
    expect((await stack.call({ method: 'POST', url: url(), token: team.tokens.admin, payload: bad })).statusCode).toBe(201);
    const refused = await stack.call({ method: 'POST', url: url('/broken-warehouse/test'), token: team.tokens.admin });
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toMatchObject({ ok: false, message: expect.stringContaining('password authentication failed') });
    expect(refused.body).not.toContain(wrongPassword);
  });
});

describe('when the input breaks a rule', () => {
  const post = (payload: unknown) => stack.call({ method: 'POST', url: url(), token: team.tokens.admin, payload: payload as Record<string, unknown> });

  it('refuses an unknown type, a missing required field, a secret sent as not secret, duplicate variables and a taken slug, each with its own problem', async () => {
    expect((await post({ ...warehouse(), type: 'ORACLE' })).json()).toMatchObject({ status: 400, code: 'invalid_input', errors: [expect.objectContaining({ field: 'body/type' })] });
    expect((await post({ ...warehouse(), name: 'No Host', fields: warehouse().fields.slice(1) })).json()).toMatchObject({ status: 400, code: 'connection_field_missing', detail: expect.stringContaining('"host"') });
    const visible = warehouse();
    visible.name = 'Visible';
    visible.fields[4]!.secret = false;
    const refused = await post(visible);
    expect(refused.json()).toMatchObject({ status: 400, code: 'secret_required' });
    expect(refused.body).not.toContain(login.password);
    expect((await post({ name: 'Twice', type: 'CUSTOM', fields: [{ code: 'db_name', value: 'a', secret: false }, { code: 'dbName', value: 'b', secret: false }] })).json()).toMatchObject({ status: 400, code: 'invalid_input' });
    expect((await post({ ...warehouse(), slug: 'data-warehouse' })).json()).toMatchObject({ status: 409, code: 'connection_exists' });
    expect((await post({ ...warehouse(), port: 5432 })).json()).toMatchObject({ status: 400, code: 'invalid_input' });
    expect((await post({ name: 'S3', type: 'S3', fields: [{ code: 'bucketName', value: 'b', secret: false }, { code: 'accessKeyId', value: 'k', secret: false }] })).json()).toMatchObject({ status: 400, code: 'connection_field_missing' });
  });

  it('refuses to turn a secret field into a visible one on update, and keeps a secret that is sent without a value', async () => {
    const visible = await stack.call({ method: 'PATCH', url: url('/data-warehouse'), token: team.tokens.admin, payload: { fields: warehouse().fields.map((field) => ({ ...field, secret: false })) } });
    expect(visible.json()).toMatchObject({ status: 400, code: 'secret_required' });
    const kept = await stack.call({
      method: 'PATCH',
      url: url('/data-warehouse'),
      token: team.tokens.admin,
      payload: { description: 'renamed', fields: warehouse().fields.map((field) => (field.secret ? { code: field.code, secret: true } : field)) },
    });
    expect(kept.statusCode).toBe(200);
    expect(kept.json()).toMatchObject({ description: 'renamed' });
    expect((await stack.call({ method: 'POST', url: url('/data-warehouse/test'), token: team.tokens.admin })).json()).toMatchObject({ ok: true });
    const audit = await query<{ payload: { action: string; after: unknown } }>(`select payload from "${stack.schemas.files}".outbox where payload->>'action' = 'connection.updated'`);
    expect(audit.map((row) => row.payload.after)).toContainEqual({ description: true, fieldsChanged: [] });
  });

  it("refuses with 409 connection_variable_clash a field whose run variable another connection's field has, on create and on update", async () => {
    const custom = (name: string, slug: string, codes: string[]) => ({ name, slug, type: 'CUSTOM', fields: codes.map((code) => ({ code, value: `${slug}/${code}`, secret: false })) });
    expect((await post(custom('A B', 'a-b', ['c']))).statusCode).toBe(201);
    const clash = await post(custom('A', 'a', ['region', 'b_c']));
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'connection_variable_clash', detail: expect.stringMatching(/"b_c".*A_B_C.*"c" of the connection a-b/), errors: [{ field: 'body/fields/1/code' }] });
    expect(await query(`select slug from "${stack.schemas.files}".connections where slug = 'a'`)).toEqual([]);
    // A connection created without the clash cannot take it later either, and keeps what it had.
    expect((await post(custom('A', 'a', ['region']))).statusCode).toBe(201);
    const update = await stack.call({ method: 'PATCH', url: url('/a'), token: team.tokens.admin, payload: { fields: [{ code: 'region', value: 'sahel', secret: false }, { code: 'bC', value: 'x', secret: false }] } });
    expect(update.json()).toMatchObject({ status: 409, code: 'connection_variable_clash', detail: expect.stringContaining('A_B_C') });
    expect((await stack.call({ method: 'GET', url: url('/a'), token: team.tokens.admin })).json().fields).toEqual([expect.objectContaining({ code: 'region', value: 'a/region' })]);
    for (const slug of ['a', 'a-b']) expect((await stack.call({ method: 'DELETE', url: url(`/${slug}`), token: team.tokens.admin })).statusCode).toBe(204);
  });

  it('answers 409 connection_test_unsupported for a type it cannot test yet, and 404 for an unknown connection', async () => {
    expect((await post({ name: 'Dhis2 Burkina', type: 'DHIS2', fields: [{ code: 'url', value: 'https://dhis2.example.org', secret: false }, { code: 'username', value: 'u', secret: false }, { code: 'password', value: 'p-secret', secret: true }] })).statusCode).toBe(201);
    expect((await stack.call({ method: 'POST', url: url('/dhis2-burkina/test'), token: team.tokens.admin })).json()).toMatchObject({ status: 409, code: 'connection_test_unsupported' });
    expect((await stack.call({ method: 'GET', url: url('/nothing-here'), token: team.tokens.admin })).json()).toMatchObject({ status: 404, code: 'connection_not_found' });
  });
});

describe('when a form asks which fields each type needs', () => {
  it('answers every type to any signed-in user (401 without), and the service accepts exactly those fields, refusing any one missing', async () => {
    expect((await stack.call({ method: 'GET', url: '/api/connection-types' })).statusCode).toBe(401);
    const answer = await stack.call({ method: 'GET', url: '/api/connection-types', token: team.tokens.viewer });
    expect(answer.statusCode).toBe(200);
    const types = answer.json<{ type: string; label: string; fields: { code: string; secret: boolean }[]; testable: boolean }[]>();
    expect(types.map((info) => info.type)).toEqual(['POSTGRESQL', 'S3', 'GCS', 'DHIS2', 'IASO', 'CUSTOM']);
    expect(types.filter((info) => info.testable).map((info) => info.type)).toEqual(['POSTGRESQL']);
    for (const info of types) {
      // Values of the right shape (a port is a port): what is under test is which fields are needed.
      const fields = info.fields.map((field) => ({ code: field.code, value: field.code === 'port' ? '5432' : `${field.code} value`, secret: field.secret }));
      const made = await stack.call({ method: 'POST', url: url(), token: team.tokens.admin, payload: { name: `Form ${info.type}`, type: info.type, fields } });
      expect({ type: info.type, status: made.statusCode }).toEqual({ type: info.type, status: 201 });
      // Gone again: the tests below count the workspace's connections.
      expect((await stack.call({ method: 'DELETE', url: url(`/${made.json<{ slug: string }>().slug}`), token: team.tokens.admin })).statusCode).toBe(204);
      for (const [index, field] of info.fields.entries()) {
        const without = fields.filter((_, other) => other !== index);
        const refused = await stack.call({ method: 'POST', url: url(), token: team.tokens.admin, payload: { name: `Without ${info.type} ${field.code}`, type: info.type, fields: without } });
        expect({ type: info.type, field: field.code, code: refused.json().code }).toEqual({ type: info.type, field: field.code, code: 'connection_field_missing' });
      }
      const visibleSecret = info.fields.findIndex((field) => field.secret);
      if (visibleSecret >= 0) {
        const shown = fields.map((field, index) => (index === visibleSecret ? { ...field, secret: false } : field));
        const refused = await stack.call({ method: 'POST', url: url(), token: team.tokens.admin, payload: { name: `Shown ${info.type}`, type: info.type, fields: shown } });
        expect({ type: info.type, code: refused.json().code }).toEqual({ type: info.type, code: 'secret_required' });
      }
    }
  });
});

describe('when the runner asks for a workspace\'s connections', () => {
  it('gets every field as <SLUG>_<FIELD_CODE> with its value decrypted, and the names of the secret ones to mask', async () => {
    const service = connectionsService(keyA);
    const { variables, secretNames } = await service.runEnvironment(team.id);
    expect(variables).toMatchObject({
      DATA_WAREHOUSE_HOST: cluster.hostname,
      DATA_WAREHOUSE_PORT: cluster.port,
      DATA_WAREHOUSE_DB_NAME: 'postgres',
      DATA_WAREHOUSE_USERNAME: login.role,
      DATA_WAREHOUSE_PASSWORD: login.password,
      DHIS2_BURKINA_URL: 'https://dhis2.example.org',
      DHIS2_BURKINA_PASSWORD: 'p-secret',
    });
    expect(secretNames).toEqual(expect.arrayContaining(['DATA_WAREHOUSE_PASSWORD', 'DHIS2_BURKINA_PASSWORD', 'BROKEN_WAREHOUSE_PASSWORD']));
    expect(secretNames).not.toContain('DATA_WAREHOUSE_HOST');
  });
});

/** The connections service on the stack's schema with another keyring, as a restarted service with a new setting would be. */
function connectionsService(keyring: string) {
  const config = loadConfig({ DATABASE_URL: commonConfig.DATABASE_URL }, { DATABASE_URL: stack.filesConfig.DATABASE_URL });
  const db = createDatabase<FilesDatabase>({ url: config.DATABASE_URL, schema: stack.schemas.files });
  databases.push(db);
  const env = serviceKeyEnv('files');
  const tokens = createInternalTokens({ service: 'files', privateKey: env.HEXA_SERVICE_KEY, publicKeys: JSON.parse(env.HEXA_SERVICE_PUBLIC_KEYS) });
  const directory = createWorkspaceDirectory(createServiceClient({ baseUrl: stack.urls.workspaces, tokens, audience: 'workspaces' }));
  return createConnectionsService({ db, directory, keyring: parseKeyring(keyring), testTimeoutMs: 5000 });
}
const databases: { destroy(): Promise<void> }[] = [];
afterAll(async () => {
  for (const db of databases) await db.destroy();
});

describe('when the encryption key is rotated', () => {
  it('old values still decrypt with the old key behind the new one, a write re-encrypts with the new key, and then the old key can go', async () => {
    const rotated = connectionsService(`k2:${keyB},k1:${keyA}`);
    expect((await rotated.runEnvironment(team.id)).variables.DATA_WAREHOUSE_PASSWORD).toBe(login.password);
    const owner = { kind: 'user' as const, userId: team.userIds.admin, organizationRole: 'MEMBER' as const, adminSomewhere: true };
    await rotated.update(owner, team.slug, 'data-warehouse', { fields: warehouse().fields.map((field) => (field.secret ? { code: field.code, secret: true } : field)) });
    const rows = await query<{ slug: string; fields: { code: string; sealed?: string }[] }>(`select slug, fields from "${stack.schemas.files}".connections`);
    const sealedOf = (slug: string) => rows.find((row) => row.slug === slug)!.fields.find((field) => field.code === 'password')!.sealed!;
    expect(sealedOf('data-warehouse').startsWith('v2:k2:')).toBe(true);
    expect(sealedOf('dhis2-burkina').startsWith('v2:k1:')).toBe(true);
    // Everything else is sealed again under the new key, then the old one leaves the ring.
    expect(await rotated.reencryptAll()).toBe(2);
    const onlyNew = connectionsService(`k2:${keyB}`);
    const environment = await onlyNew.runEnvironment(team.id);
    expect(environment.variables).toMatchObject({ DATA_WAREHOUSE_PASSWORD: login.password, DHIS2_BURKINA_PASSWORD: 'p-secret' });
    expect(await storedRows()).not.toContain(login.password);
    // The service with only the old key can no longer read them: the new key really took over.
    await expect(connectionsService(keyA).runEnvironment(team.id)).rejects.toThrow(/does not decrypt/);
  });
});

/** `pnpm --filter @hexa/files reencrypt` as an operator runs it: a process of its own with the files service's settings. */
function reencrypt(keyring: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/reencrypt.ts'], {
    cwd: fileURLToPath(new URL('../../files/', import.meta.url)),
    env: { PATH: process.env.PATH, DATABASE_URL: stack.filesConfig.DATABASE_URL, DATABASE_SCHEMA: stack.schemas.files, ...serviceKeyEnv('files'), HEXA_CONNECTIONS_ENCRYPTION_KEY: keyring },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ ...run, status })));
}

describe('when the operator runs the re-encryption script after putting a new key in front', () => {
  it('seals every secret again under the new key, which alone reads them all; a second run has nothing left to do', async () => {
    const sealed = async () =>
      (await query<{ fields: { secret: boolean; sealed?: string }[] }>(`select fields from "${stack.schemas.files}".connections`)).flatMap((row) => row.fields.filter((field) => field.secret).map((field) => field.sealed!));
    const before = await sealed();
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.every((value) => value.startsWith('v2:k2:'))).toBe(true);
    const keyC = randomBytes(32).toString('base64');
    const connectionCount = (await query(`select id from "${stack.schemas.files}".connections where fields::text like '%"secret": true%'`)).length;
    const first = await reencrypt(`k3:${keyC},k2:${keyB}`);
    expect(first).toMatchObject({ status: 0, stdout: `files: ${connectionCount} connection(s) sealed again under key k3\n` });
    const after = await sealed();
    expect(after).toHaveLength(before.length);
    expect(after.every((value) => value.startsWith('v2:k3:'))).toBe(true);
    expect(first.stdout + first.stderr + (await storedRows())).not.toContain(login.password);
    expect((await connectionsService(`k3:${keyC}`).runEnvironment(team.id)).variables).toMatchObject({ DATA_WAREHOUSE_PASSWORD: login.password, DHIS2_BURKINA_PASSWORD: 'p-secret' });
    expect(await reencrypt(`k3:${keyC},k2:${keyB}`)).toMatchObject({ status: 0, stdout: 'files: 0 connection(s) sealed again under key k3\n' });
  }, 120_000);
});

describe('when the files service logs what it did', () => {
  it('has logged requests, and not one line holds a secret value', () => {
    expect(logLines.length).toBeGreaterThan(20);
    expect(logLines.filter((line) => line.includes(login.password) || line.includes('p-secret') || line.includes(wrongPassword))).toEqual([]);
  });
});

describe('when the workspace is archived', () => {
  it('keeps its connections readable but refuses changes with 409 workspace_archived until it is restored', async () => {
    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${team.slug}/archive`, token: team.tokens.admin })).statusCode).toBe(200);
    expect((await stack.call({ method: 'GET', url: url(), token: team.tokens.owner })).statusCode).toBe(200);
    expect((await stack.call({ method: 'DELETE', url: url('/dhis2-burkina'), token: team.tokens.owner })).json()).toMatchObject({ status: 409, code: 'workspace_archived' });
    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${team.slug}/restore`, token: team.tokens.owner })).statusCode).toBe(200);
    expect((await stack.call({ method: 'DELETE', url: url('/dhis2-burkina'), token: team.tokens.owner })).statusCode).toBe(204);
    const audit = await query<{ payload: { action: string; target: string } }>(`select payload from "${stack.schemas.files}".outbox where job_name = 'audit.recorded'`);
    expect(audit.map((row) => [row.payload.action, row.payload.target])).toContainEqual(['connection.deleted', 'dhis2-burkina']);
  });
});
