import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createDatabase, createOutboxRelay, createRedis, createWorker } from '@hexa/kit';
import { eventually, flushRedisPrefix, query, testDatabaseUrl, testRedisUrl } from '@hexa/testing';
import type { FilesDatabase } from '@hexa/files';
import { createAuditService, createMemberRolesService, createProvisioningService, workspacesProcessors, type WorkspacesDatabase } from '@hexa/workspaces';
import { startStack, type Stack } from './stack.js';
import { workspaceWithPersonas, type Persona, type PersonaWorkspace } from './workspace-personas.js';

// The whole path of a files or connections audit entry: written in the change's transaction to the files
// service's outbox, delivered by the files worker's relay, kept by the workspaces worker, read through
// the gateway. And the other way round: a database that refuses the entry leaves the files as they were.
let stack: Stack;
let workspace: PersonaWorkspace;
let filesDb: ReturnType<typeof createDatabase<FilesDatabase>>;
let workspacesDb: ReturnType<typeof createDatabase<WorkspacesDatabase>>;
let connections: Redis[];
let outbox: ReturnType<typeof createOutboxRelay<FilesDatabase>>;
let worker: ReturnType<typeof createWorker>;

beforeAll(async () => {
  stack = await startStack();
  filesDb = createDatabase<FilesDatabase>({ url: stack.filesConfig.DATABASE_URL, schema: stack.schemas.files });
  workspacesDb = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
  connections = [createRedis(testRedisUrl), createRedis(testRedisUrl, 'worker')];
  // The files worker's relay (src/worker.ts) and the workspaces worker's consumer of audit entries.
  outbox = createOutboxRelay({ db: filesDb, redis: connections[0]!, prefix: stack.queuePrefix, verifyAfterMs: 0 });
  worker = createWorker(
    'workspaces',
    workspacesProcessors({ audit: createAuditService({ db: workspacesDb }), provisioning: createProvisioningService({ db: workspacesDb }), memberRoles: createMemberRolesService({ db: workspacesDb }) }),
    { connection: connections[1]!, prefix: stack.queuePrefix },
  );
  outbox.relay.start(100);
  workspace = await workspaceWithPersonas(stack, 'Audited Files');
});
afterAll(async () => {
  await worker.close();
  await outbox.close();
  for (const connection of connections) connection.disconnect();
  await filesDb.destroy();
  await workspacesDb.destroy();
  await flushRedisPrefix(stack.queuePrefix);
  await stack.close();
});

const folderOf = () => join(stack.filesConfig.HEXA_FILES_DIR, workspace.id);

async function as(persona: Persona, method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE', path: string, options: { payload?: object | string; headers?: Record<string, string> } = {}) {
  const response = await stack.call({ method, url: `/api/workspaces/${workspace.slug}${path}`, token: workspace.tokens[persona], ...options });
  return { status: response.statusCode, body: response.body, json: () => response.json() };
}
const upload = (persona: Persona, path: string, content: string) => as(persona, 'PUT', `/files/${path}`, { payload: content, headers: { 'content-type': 'application/octet-stream' } });

interface Entry { action: string; actor: { kind: string; userId?: string }; target?: string; after?: unknown }

/** The files and connections entries of the trail, oldest first, once there are `count` of them. */
async function trail(count: number): Promise<Entry[]> {
  return eventually(async () => {
    const answer = await as('admin', 'GET', '/audit?perPage=100');
    expect(answer.status).toBe(200);
    const entries = (answer.json().items as Entry[]).filter((entry) => /^(file|folder|connection)\./.test(entry.action)).reverse();
    return entries.length >= count ? entries : undefined;
  }, 20_000);
}

describe('when Editors and Admins change files and connections', () => {
  it('shows each upload, folder, move and delete, and each connection change, in the workspace audit trail with who did it (never a value)', async () => {
    expect((await upload('editor', 'reports/cases.csv', 'district,cases\n')).status).toBe(201);
    expect((await upload('admin', 'reports/cases.csv', 'district,cases\nBobo,12\n')).status).toBe(200);
    expect((await as('editor', 'POST', '/folders', { payload: { path: 'archive/2026' } })).status).toBe(201);
    expect((await as('editor', 'POST', '/files/move', { payload: { from: 'reports/cases.csv', to: 'archive/2026/cases.csv' } })).status).toBe(200);
    expect((await as('editor', 'DELETE', '/files/archive/2026/cases.csv')).status).toBe(204);
    expect((await as('admin', 'DELETE', '/files/archive?recursive=true')).status).toBe(204);
    const fields = [
      { code: 'url', value: 'https://dhis2.example.org', secret: false },
      { code: 'username', value: 'analyst', secret: false },
      { code: 'password', value: 'dhis2-audit-secret', secret: true },
    ];
    expect((await as('admin', 'POST', '/connections', { payload: { name: 'DHIS2', type: 'DHIS2', fields } })).status).toBe(201);
    expect((await as('admin', 'PATCH', '/connections/dhis2', { payload: { fields: fields.map((field) => (field.secret ? { ...field, value: 'rotated-audit-secret' } : field)) } })).status).toBe(200);
    expect((await as('admin', 'DELETE', '/connections/dhis2')).status).toBe(204);
    // Refused changes leave no trace.
    expect((await upload('viewer', 'by-viewer.txt', 'x')).status).toBe(403);
    expect((await as('editor', 'DELETE', '/files/nothing-here.txt')).status).toBe(404);

    const entries = await trail(9);
    const editor = { kind: 'user', userId: workspace.userIds.editor };
    const admin = { kind: 'user', userId: workspace.userIds.admin };
    expect(entries.map(({ action, actor, target, after }) => ({ action, actor, target, after }))).toEqual([
      { action: 'file.uploaded', actor: editor, target: 'reports/cases.csv', after: { size: 15, replaced: false } },
      { action: 'file.uploaded', actor: admin, target: 'reports/cases.csv', after: { size: 23, replaced: true } },
      { action: 'folder.created', actor: editor, target: 'archive/2026', after: undefined },
      { action: 'file.moved', actor: editor, target: 'reports/cases.csv', after: { to: 'archive/2026/cases.csv' } },
      { action: 'file.deleted', actor: editor, target: 'archive/2026/cases.csv', after: { size: 23 } },
      { action: 'folder.deleted', actor: admin, target: 'archive', after: { recursive: true } },
      { action: 'connection.created', actor: admin, target: 'dhis2', after: { type: 'DHIS2', fields: fields.map(({ code, secret }) => ({ code, secret })) } },
      { action: 'connection.updated', actor: admin, target: 'dhis2', after: { fieldsChanged: ['password'] } },
      { action: 'connection.deleted', actor: admin, target: 'dhis2', after: { type: 'DHIS2' } },
    ]);
    const text = JSON.stringify(entries);
    expect(text).not.toContain('audit-secret');
    expect(text).not.toContain('Bobo');
  });
});

describe('when the database refuses the audit entry of a change', () => {
  // The entry's insert fails as if the database had gone away (57P03: cannot connect now) for the paths of this test.
  const refusing = ['doomed.txt', 'kept', 'kept/%'];

  beforeAll(async () => {
    expect((await upload('editor', 'kept/original.txt', 'original content')).status).toBe(201);
    expect((await as('editor', 'POST', '/folders', { payload: { path: 'kept/empty' } })).status).toBe(201);
    const schema = stack.schemas.files;
    await query(`create function "${schema}".refuse_audit() returns trigger language plpgsql as $$
      begin
        if new.payload->>'target' like any (array['${refusing.join("','")}']) then
          raise exception 'audit refused by the test' using errcode = '57P03';
        end if;
        return new;
      end $$`);
    await query(`create trigger refuse_audit before insert on "${schema}".outbox for each row execute function "${schema}".refuse_audit()`);
  });
  afterAll(async () => {
    await query(`drop trigger refuse_audit on "${stack.schemas.files}".outbox`);
    await query(`drop function "${stack.schemas.files}".refuse_audit()`);
  });

  const refused = (answer: { status: number; json: () => { code?: string } }) => expect({ status: answer.status, code: answer.json().code }).toEqual({ status: 503, code: 'service_unavailable' });
  const temporaries = (folder: string) => readdirSync(folder).filter((name) => name.startsWith('.hexa-upload-'));

  it('writes no new file and replaces no file (the upload stays aside, then goes)', async () => {
    refused(await upload('editor', 'doomed.txt', 'new content'));
    expect(existsSync(join(folderOf(), 'doomed.txt'))).toBe(false);
    refused(await upload('editor', 'kept/original.txt', 'replacement'));
    expect(readFileSync(join(folderOf(), 'kept', 'original.txt'), 'utf8')).toBe('original content');
    expect([...temporaries(folderOf()), ...temporaries(join(folderOf(), 'kept'))]).toEqual([]);
  });

  it('deletes nothing: not a file, not an empty folder, not a folder recursively', async () => {
    refused(await as('editor', 'DELETE', '/files/kept/original.txt'));
    refused(await as('editor', 'DELETE', '/files/kept/empty'));
    refused(await as('editor', 'DELETE', '/files/kept?recursive=true'));
    expect(readFileSync(join(folderOf(), 'kept', 'original.txt'), 'utf8')).toBe('original content');
    expect(readdirSync(join(folderOf(), 'kept')).sort()).toEqual(['empty', 'original.txt']);
    expect(temporaries(folderOf())).toEqual([]);
  });

  it('moves nothing and makes no folder', async () => {
    refused(await as('editor', 'POST', '/files/move', { payload: { from: 'kept/original.txt', to: 'elsewhere/moved.txt' } }));
    expect(existsSync(join(folderOf(), 'kept', 'original.txt'))).toBe(true);
    expect(existsSync(join(folderOf(), 'elsewhere'))).toBe(false);
    refused(await as('editor', 'POST', '/folders', { payload: { path: 'kept/new' } }));
    expect(existsSync(join(folderOf(), 'kept', 'new'))).toBe(false);
    const listing = await as('viewer', 'GET', '/files?prefix=kept');
    expect(listing.json().items.map((item: { name: string }) => item.name)).toEqual(['empty', 'original.txt']);
  });

  it('records none of the refused changes in the trail', async () => {
    // The nine entries of the first test and the two of this one's set-up; a moment more for any straggler.
    await trail(11);
    await new Promise((done) => setTimeout(done, 1000));
    const kept = (await trail(11)).filter((entry) => entry.target === 'doomed.txt' || entry.target === 'kept' || entry.target?.startsWith('kept/'));
    expect(kept.map((entry) => [entry.action, entry.target])).toEqual([
      ['file.uploaded', 'kept/original.txt'],
      ['folder.created', 'kept/empty'],
    ]);
  });
});
