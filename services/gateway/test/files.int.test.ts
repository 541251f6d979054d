import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, query } from '@hexa/testing';
import { rawRequest } from './raw-http.js';
import { ownerLogin, startStack, type Stack } from './stack.js';

let stack: Stack;
let token: string;
let slug: string;
let workspaceId: string;
let port: number;
const folderOf = () => join(stack.filesConfig.HEXA_FILES_DIR, workspaceId);

beforeAll(async () => {
  stack = await startStack({ filesEnv: { FILES_MAX_FILE_BYTES: '4000', FILES_WORKSPACE_QUOTA_BYTES: '10000' } });
  await stack.gateway.listen({ host: '127.0.0.1', port: 0 });
  port = (stack.gateway.server.address() as AddressInfo).port;
  token = await stack.login(ownerLogin.email, ownerLogin.password);
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Files Project' } });
  ({ slug, id: workspaceId } = created.json<{ slug: string; id: string }>());
});
afterAll(() => stack.close());

const url = (rest: string) => `/api/workspaces/${slug}${rest}`;
const upload = (path: string, payload: string | Buffer, headers: Record<string, string> = {}) =>
  stack.call({ method: 'PUT', url: url(`/files/${path}`), token, payload, headers: { 'content-type': 'application/octet-stream', ...headers } });

/** The audit entries the files service wrote to its outbox (the workspaces worker keeps them). */
async function auditEntries(): Promise<{ action: string; target: string; after?: unknown }[]> {
  const rows = await query<{ payload: { action: string; target: string; after?: unknown } }>(`select payload from "${stack.schemas.files}".outbox where job_name = 'audit.recorded' order by created_at, id`);
  return rows.map((row) => row.payload);
}

describe('when an Editor or Admin uploads, lists, downloads, moves and deletes files', () => {
  it('stores the upload under the workspace folder, lists it with its size and type, and downloads it whole with its headers', async () => {
    const created = await upload('reports/2026/cases à Bobo.csv', 'district,cases\nBobo,12\n', { 'content-type': 'text/csv' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'cases à Bobo.csv', path: 'reports/2026/cases à Bobo.csv', type: 'file', size: 23, contentType: 'text/csv' });
    expect(existsSync(join(folderOf(), 'reports', '2026', 'cases à Bobo.csv'))).toBe(true);

    const root = await stack.call({ method: 'GET', url: url('/files'), token });
    expect(root.statusCode).toBe(200);
    expect(root.json()).toMatchObject({ prefix: '', items: [{ name: 'reports', type: 'folder', size: 0, contentType: null }], totalItems: 1, usage: { usedBytes: 23, quotaBytes: 10000, maxFileBytes: 4000 } });
    const inner = await stack.call({ method: 'GET', url: url('/files?prefix=reports/2026'), token });
    expect(inner.json().items).toEqual([expect.objectContaining({ name: 'cases à Bobo.csv', path: 'reports/2026/cases à Bobo.csv', size: 23, type: 'file' })]);

    const download = await stack.call({ method: 'GET', url: url('/files/reports/2026/cases%20%C3%A0%20Bobo.csv'), token });
    expect(download.statusCode).toBe(200);
    expect(download.body).toBe('district,cases\nBobo,12\n');
    expect(download.headers['content-type']).toMatch(/^text\/csv/);
    expect(download.headers['content-disposition']).toBe(`attachment; filename="cases _ Bobo.csv"; filename*=UTF-8''cases%20%C3%A0%20Bobo.csv`);
    expect(download.headers['accept-ranges']).toBe('bytes');
  });

  it('answers a Range with 206 and exactly those bytes, a suffix range too, and 416 past the end', async () => {
    const part = await stack.call({ method: 'GET', url: url('/files/reports/2026/cases%20%C3%A0%20Bobo.csv'), token, headers: { range: 'bytes=0-7' } });
    expect(part.statusCode).toBe(206);
    expect(part.body).toBe('district');
    expect(part.headers['content-range']).toBe('bytes 0-7/23');
    const suffix = await stack.call({ method: 'GET', url: url('/files/reports/2026/cases%20%C3%A0%20Bobo.csv'), token, headers: { range: 'bytes=-3' } });
    expect(suffix.statusCode).toBe(206);
    expect(suffix.body).toBe('12\n');
    const beyond = await stack.call({ method: 'GET', url: url('/files/reports/2026/cases%20%C3%A0%20Bobo.csv'), token, headers: { range: 'bytes=100-200' } });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.json()).toMatchObject({ code: 'range_not_satisfiable' });
  });

  it('replaces a file with 200, makes folders (409 when one exists), moves, and deletes a folder only when empty or recursively', async () => {
    expect((await upload('notes.txt', 'first')).statusCode).toBe(201);
    const replaced = await upload('notes.txt', 'second version');
    expect(replaced.statusCode).toBe(200);
    expect((await stack.call({ method: 'GET', url: url('/files/notes.txt'), token })).body).toBe('second version');

    const folder = await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: 'archive/old' } });
    expect(folder.statusCode).toBe(201);
    expect(folder.json()).toMatchObject({ path: 'archive/old', type: 'folder' });
    expect((await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: 'archive/old' } })).json()).toMatchObject({ status: 409, code: 'file_exists' });

    const moved = await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'notes.txt', to: 'archive/old/notes-2026.txt' } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ path: 'archive/old/notes-2026.txt', size: 14 });
    expect((await stack.call({ method: 'GET', url: url('/files/notes.txt'), token })).json()).toMatchObject({ status: 404, code: 'file_not_found' });
    await upload('other.txt', 'x');
    expect((await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'other.txt', to: 'archive/old/notes-2026.txt' } })).json()).toMatchObject({ status: 409, code: 'file_exists' });
    expect((await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'other.txt', to: 'archive/old/notes-2026.txt', overwrite: true } })).statusCode).toBe(200);

    const notEmpty = await stack.call({ method: 'DELETE', url: url('/files/archive'), token });
    expect(notEmpty.json()).toMatchObject({ status: 409, code: 'folder_not_empty' });
    expect((await stack.call({ method: 'DELETE', url: url('/files/archive?recursive=true'), token })).statusCode).toBe(204);
    expect(existsSync(join(folderOf(), 'archive'))).toBe(false);
    expect((await stack.call({ method: 'DELETE', url: url('/files/archive'), token })).json()).toMatchObject({ status: 404, code: 'file_not_found' });
    expect((await stack.call({ method: 'GET', url: url('/files/reports'), token })).json()).toMatchObject({ status: 409, code: 'is_a_folder' });
  });

  it('records every upload, folder, move and delete in the audit trail, never the content', async () => {
    const entries = await auditEntries();
    expect(entries.map((entry) => [entry.action, entry.target])).toEqual(
      expect.arrayContaining([
        ['file.uploaded', 'reports/2026/cases à Bobo.csv'],
        ['file.uploaded', 'notes.txt'],
        ['folder.created', 'archive/old'],
        ['file.moved', 'notes.txt'],
        ['folder.deleted', 'archive'],
      ]),
    );
    expect(JSON.stringify(entries)).not.toContain('second version');
  });

  it('lists what a run wrote into the folder (the runner mounts this very folder)', async () => {
    mkdirSync(join(folderOf(), 'output'), { recursive: true });
    writeFileSync(join(folderOf(), 'output', 'result.json'), '{"ok":true}');
    const listing = await stack.call({ method: 'GET', url: url('/files?prefix=output'), token });
    expect(listing.json().items).toEqual([expect.objectContaining({ name: 'result.json', size: 11, contentType: 'application/json' })]);
  });
});

describe('when an upload is too large or the quota would be passed', () => {
  it('refuses a file over the per-file limit with 413 file_too_large, announced or not, and keeps nothing', async () => {
    const announced = await upload('big.bin', Buffer.alloc(5000, 1));
    expect(announced.statusCode).toBe(413);
    expect(announced.json()).toMatchObject({ code: 'file_too_large' });
    const chunked = await stack.call({ method: 'PUT', url: url('/files/big.bin'), token, payload: Buffer.alloc(5000, 1), headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } });
    expect(chunked.statusCode).toBe(413);
    expect(existsSync(join(folderOf(), 'big.bin'))).toBe(false);
    expect(readdirSync(folderOf()).filter((name) => name.startsWith('.hexa-upload-'))).toEqual([]);
  });

  it('refuses an upload that would pass the workspace quota with 409 quota_exceeded', async () => {
    for (const name of ['a.bin', 'b.bin']) expect((await upload(name, Buffer.alloc(3900, 2))).statusCode).toBe(201);
    const over = await upload('c.bin', Buffer.alloc(3900, 2));
    expect(over.statusCode).toBe(409);
    expect(over.json()).toMatchObject({ code: 'quota_exceeded' });
    expect(existsSync(join(folderOf(), 'c.bin'))).toBe(false);
    // Replacing a file counts only the difference.
    expect((await upload('a.bin', Buffer.alloc(3950, 3))).statusCode).toBe(200);
    for (const name of ['a.bin', 'b.bin']) await stack.call({ method: 'DELETE', url: url(`/files/${name}`), token });
  });
});

describe('when uploads race each other for the last of the quota', () => {
  it.each([
    ['announced with Content-Length', {}],
    ['chunked', { 'transfer-encoding': 'chunked' }],
  ])('lets only as many through as fit, %s, and keeps the workspace within its quota', async (_form, headers: Record<string, string>) => {
    const usage = async () => (await stack.call({ method: 'GET', url: url('/files'), token })).json<{ usage: { usedBytes: number } }>().usage.usedBytes;
    const before = await usage();
    const fit = Math.floor((10_000 - before) / 3000);
    expect(fit).toBeGreaterThanOrEqual(2);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => upload(`race/${index}.bin`, Buffer.alloc(3000, index), headers)));
    const created = answers.filter((answer) => answer.statusCode === 201).length;
    expect(created).toBeGreaterThanOrEqual(1);
    expect(created).toBeLessThanOrEqual(fit);
    for (const answer of answers.filter((each) => each.statusCode !== 201)) expect(answer.json()).toMatchObject({ status: 409, code: 'quota_exceeded' });
    expect(await usage()).toBe(before + created * 3000);
    expect(readdirSync(join(folderOf(), 'race')).filter((name) => name.startsWith('.hexa-upload-'))).toEqual([]);
    await stack.call({ method: 'DELETE', url: url('/files/race?recursive=true'), token });
  });
});

describe('when a path tries to leave the workspace folder', () => {
  const refusedAtTheDoor = ['..', '../x', 'a/../../x', '/etc/passwd', 'a\\..\\b', 'a%2F..%2F..%2Fx', '%252e%252e', 'a//b', './a', 'a/.', '%EF%BC%8E%EF%BC%8E', 'x%E2%80%A4%E2%80%A4', `${'n'.repeat(256)}`, 'a%00b', '.hexa-upload-x'];

  it('refuses every form with a 400 problem+json and writes nothing anywhere', async () => {
    const outside = join(stack.filesConfig.HEXA_FILES_DIR, '..');
    const before = readdirSync(outside).sort();
    // An escape into HEXA_FILES_DIR itself (beside the workspace folders) shows here, not in the folder above.
    const inside = tree(stack.filesConfig.HEXA_FILES_DIR);
    for (const path of refusedAtTheDoor) {
      const answer = await rawRequest(port, 'PUT', `/api/workspaces/${slug}/files/${path}`, { authorization: `Bearer ${token}`, 'content-length': '0', 'content-type': 'application/octet-stream' });
      const code = (JSON.parse(answer.body) as { code?: string }).code;
      // The gateway refuses what the contract's FilePath pattern refuses (invalid_input naming params/path); the service what only it can judge (invalid_path).
      expect({ path, status: answer.status, code, type: answer.headers['content-type'] }).toEqual({
        path,
        status: 400,
        code: expect.stringMatching(/^(invalid_input|invalid_path)$/),
        type: expect.stringContaining('application/problem+json'),
      });
    }
    expect(readdirSync(outside).sort()).toEqual(before);
    expect(tree(stack.filesConfig.HEXA_FILES_DIR)).toEqual(inside);
  });

  it('refuses a symbolic link that leads outside (download, upload through it, listing leaves it out)', async () => {
    const secret = join(stack.filesConfig.HEXA_FILES_DIR, '..', `outside-${workspaceId}.txt`);
    writeFileSync(secret, 'not yours');
    symlinkSync(secret, join(folderOf(), 'escape.txt'));
    symlinkSync(join(stack.filesConfig.HEXA_FILES_DIR, '..'), join(folderOf(), 'escape-dir'));
    const download = await stack.call({ method: 'GET', url: url('/files/escape.txt'), token });
    expect(download.statusCode).toBe(400);
    expect(download.json()).toMatchObject({ code: 'invalid_path' });
    expect(download.body).not.toContain('not yours');
    const through = await upload('escape-dir/planted.txt', 'x');
    expect(through.json()).toMatchObject({ status: 400, code: 'invalid_path' });
    expect(existsSync(join(stack.filesConfig.HEXA_FILES_DIR, '..', 'planted.txt'))).toBe(false);
    const listing = await stack.call({ method: 'GET', url: url('/files'), token });
    expect(listing.json().items.map((item: { name: string }) => item.name)).not.toContain('escape.txt');
    expect(listing.json().items.map((item: { name: string }) => item.name)).not.toContain('escape-dir');
  });
});

/** Sends a PUT through the gateway from a stream of chunks, as a slow client would; resolves with the answer. */
function streamUpload(path: string, chunks: AsyncIterable<Buffer>, length: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method: 'PUT', path: `/api/workspaces/${slug}/files/${path}`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(length) } },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      },
    );
    request.on('error', reject);
    void (async () => {
      for await (const chunk of chunks) if (!request.write(chunk)) await new Promise((done) => request.once('drain', done));
      request.end();
    })();
  });
}

async function* slowly(fill: number, count: number, size: number, pauseMs: number): AsyncIterable<Buffer> {
  for (let index = 0; index < count; index += 1) {
    yield Buffer.alloc(size, fill);
    await sleep(pauseMs);
  }
}

describe('when an upload is interrupted or two uploads race to one path', () => {
  it('leaves nothing under the name (nor a temporary file) when the client hangs up halfway, and keeps the previous file intact', async () => {
    expect((await upload('kept.txt', 'previous content')).statusCode).toBe(201);
    const socket = connect(port, '127.0.0.1');
    await new Promise((done) => socket.once('connect', done));
    socket.write(
      [`PUT /api/workspaces/${slug}/files/kept.txt HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${token}`, 'Content-Type: application/octet-stream', 'Content-Length: 3000', '', ''].join('\r\n'),
    );
    socket.write(Buffer.alloc(1500, 7));
    await sleep(200);
    socket.destroy();
    const fresh = connect(port, '127.0.0.1');
    await new Promise((done) => fresh.once('connect', done));
    fresh.write([`PUT /api/workspaces/${slug}/files/half.bin HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${token}`, 'Content-Length: 3000', '', ''].join('\r\n'));
    fresh.write(Buffer.alloc(1000, 7));
    await sleep(200);
    fresh.destroy();
    // The services notice the hang-up and clean up.
    await eventually(async () => (readdirSync(folderOf()).some((name) => name.startsWith('.hexa-upload-')) ? undefined : true), 5000);
    expect(existsSync(join(folderOf(), 'half.bin'))).toBe(false);
    expect((await stack.call({ method: 'GET', url: url('/files/kept.txt'), token })).body).toBe('previous content');
  });

  it('keeps exactly one of two concurrent uploads, whole: the last to complete', async () => {
    const size = 1000;
    const [first, second] = await Promise.all([streamUpload('race.bin', slowly(0x41, 3, size, 150), 3 * size), streamUpload('race.bin', slowly(0x42, 3, size, 40), 3 * size)]);
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    const content = (await stack.call({ method: 'GET', url: url('/files/race.bin'), token })).rawPayload;
    expect(content.length).toBe(3 * size);
    // The slower one (A) completed last: the file is all A, never a mix.
    expect(content.every((byte) => byte === 0x41)).toBe(true);
    expect(readdirSync(folderOf()).filter((name) => name.startsWith('.hexa-upload-'))).toEqual([]);
  });
});

describe('when the workspace is archived', () => {
  it('serves its files read-only (409 workspace_archived on every change) until it is restored', async () => {
    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${slug}/archive`, token })).statusCode).toBe(200);
    expect((await stack.call({ method: 'GET', url: url('/files/kept.txt'), token })).body).toBe('previous content');
    expect((await stack.call({ method: 'GET', url: url('/files'), token })).statusCode).toBe(200);
    expect((await upload('new.txt', 'x')).json()).toMatchObject({ status: 409, code: 'workspace_archived' });
    expect((await stack.call({ method: 'DELETE', url: url('/files/kept.txt'), token })).json()).toMatchObject({ status: 409, code: 'workspace_archived' });
    expect((await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: 'x' } })).json()).toMatchObject({ status: 409, code: 'workspace_archived' });
    expect((await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'kept.txt', to: 'y.txt' } })).json()).toMatchObject({ status: 409, code: 'workspace_archived' });
    expect(existsSync(join(folderOf(), 'new.txt'))).toBe(false);
    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${slug}/restore`, token })).statusCode).toBe(200);
    expect((await upload('new.txt', 'x')).statusCode).toBe(201);
  });
});

describe('when Viewers and Editors use files', () => {
  it('lets a Viewer list and download but not write (403), and an Editor write', async () => {
    const viewer = await stack.createUser(`viewer.${slug}@example.org`, 'MEMBER');
    const editor = await stack.createUser(`editor.${slug}@example.org`, 'MEMBER');
    for (const [user, role] of [[viewer, 'VIEWER'], [editor, 'EDITOR']] as const) {
      await query(`insert into "${stack.schemas.membership}".workspace_memberships (workspace_slug, workspace_id, user_id, role) values ($1, $2, $3, $4)`, [slug, workspaceId, user.id, role]);
    }
    expect((await stack.call({ method: 'GET', url: url('/files/kept.txt'), token: viewer.token })).body).toBe('previous content');
    expect((await stack.call({ method: 'PUT', url: url('/files/by-viewer.txt'), token: viewer.token, payload: 'x', headers: { 'content-type': 'text/plain' } })).json()).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await stack.call({ method: 'PUT', url: url('/files/by-editor.txt'), token: editor.token, payload: 'x', headers: { 'content-type': 'text/plain' } })).statusCode).toBe(201);
  });
});

describe('when a folder holds more entries than one page', () => {
  it('answers the asked page of folders then files by name, with the totals, and each entry when it was modified', async () => {
    for (const name of ['b.txt', 'a.txt', 'e.txt', 'c.txt', 'd.txt']) expect((await upload(`paged/${name}`, name)).statusCode).toBe(201);
    for (const name of ['zeta', 'alpha']) expect((await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: `paged/${name}` } })).statusCode).toBe(201);
    const lastYear = new Date('2025-03-04T05:06:07.000Z');
    utimesSync(join(folderOf(), 'paged', 'c.txt'), lastYear, lastYear);
    const page = async (number: number) => (await stack.call({ method: 'GET', url: url(`/files?prefix=paged&perPage=3&page=${number}`), token })).json();
    const second = await page(2);
    expect(second).toMatchObject({ prefix: 'paged', page: 2, perPage: 3, totalItems: 7, totalPages: 3 });
    expect(second.items.map((item: { name: string }) => item.name)).toEqual(['b.txt', 'c.txt', 'd.txt']);
    expect(second.items[1]).toEqual({ name: 'c.txt', path: 'paged/c.txt', type: 'file', size: 5, modified: lastYear.toISOString(), contentType: 'text/plain' });
    expect(Math.abs(Date.parse(second.items[0].modified) - Date.now())).toBeLessThan(60_000);
    expect((await page(1)).items.map((item: { name: string }) => item.name)).toEqual(['alpha', 'zeta', 'a.txt']);
    expect((await page(3)).items.map((item: { name: string }) => item.name)).toEqual(['e.txt']);
    expect((await page(4)).items).toEqual([]);
    expect((await stack.call({ method: 'DELETE', url: url('/files/paged?recursive=true'), token })).statusCode).toBe(204);
  });
});

describe('when folders are deleted, moved and renamed', () => {
  it('deletes an empty folder without recursive, and only that folder', async () => {
    expect((await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: 'tidy/empty' } })).statusCode).toBe(201);
    expect((await stack.call({ method: 'DELETE', url: url('/files/tidy/empty'), token })).statusCode).toBe(204);
    expect(existsSync(join(folderOf(), 'tidy', 'empty'))).toBe(false);
    expect(existsSync(join(folderOf(), 'tidy'))).toBe(true);
    expect((await stack.call({ method: 'DELETE', url: url('/files/tidy'), token })).statusCode).toBe(204);
    expect(existsSync(join(folderOf(), 'tidy'))).toBe(false);
  });

  it('moves a folder with everything in it, and refuses to move a folder into itself', async () => {
    expect((await upload('project/data/cases.csv', 'a,b\n')).statusCode).toBe(201);
    expect((await upload('project/readme.md', '# P\n')).statusCode).toBe(201);
    const moved = await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'project', to: 'done/project-2026' } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ path: 'done/project-2026', type: 'folder' });
    expect(existsSync(join(folderOf(), 'project'))).toBe(false);
    expect((await stack.call({ method: 'GET', url: url('/files/done/project-2026/data/cases.csv'), token })).body).toBe('a,b\n');
    for (const to of ['done/project-2026/inner', 'done/project-2026/data/deeper/x']) {
      const into = await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'done/project-2026', to } });
      expect(into.json()).toMatchObject({ status: 400, code: 'invalid_path', detail: 'A folder cannot move into itself.' });
    }
    expect(readdirSync(join(folderOf(), 'done', 'project-2026')).sort()).toEqual(['data', 'readme.md']);
  });

  it('renames a file within its folder, the name changing and nothing else', async () => {
    const renamed = await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'done/project-2026/readme.md', to: 'done/project-2026/README.md' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'README.md', path: 'done/project-2026/README.md', size: 4, contentType: 'text/markdown' });
    expect(readdirSync(join(folderOf(), 'done', 'project-2026')).sort()).toEqual(['README.md', 'data']);
    expect((await stack.call({ method: 'DELETE', url: url('/files/done?recursive=true'), token })).statusCode).toBe(204);
  });
});

/** Every path under a folder (a snapshot to compare); symbolic links are listed, not followed. */
function tree(folder: string, prefix = ''): string[] {
  return readdirSync(join(folder, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      return entry.isDirectory() ? [path, ...tree(folder, path)] : [path];
    })
    .sort();
}

describe('when a path tries to leave the workspace folder through any operation', () => {
  // As they would arrive in a URL (path or query), and as a JSON body would carry them once decoded.
  const inUrls = ['..', '../x', 'a/../../x', '/etc/passwd', 'a\\..\\b', 'a%2F..%2F..%2Fx', '%2e%2e/x', '%252e%252e', '%252e%252e%252fx', 'a//b', './a', 'a/.', '%EF%BC%8E%EF%BC%8E', 'x%E2%80%A4%E2%80%A4', 'a%00b', '%00', `${'n'.repeat(256)}`, '.hexa-upload-x'];
  const inBodies = ['..', '../x', 'a/../../x', '/etc/passwd', '/tmp/x', 'a\\..\\b', '..\\x', '%2e%2e/x', '%252e%252e', 'a//b', './a', 'a/.', '\uff0e\uff0e', 'x\u2024\u2024', '\u2025/x', 'a\u0000b', 'a\u2215..', `${'n'.repeat(256)}`, '.hexa-upload-x'];
  /** Names a traversal would leave beside the workspace folders, or beside HEXA_FILES_DIR. */
  const escapes = ['x', 'b', 'a', 'passwd', 'etc', 'a%2F..%2F..%2Fx', '%2e%2e', '%252e%252e', '..\\x', 'a\\..\\b', 'stolen.txt', 'planted'];

  let before: { inside: string[]; beside: string[] };
  beforeAll(async () => {
    expect((await upload('target.txt', 'stay')).statusCode).toBe(201);
    before = { inside: tree(stack.filesConfig.HEXA_FILES_DIR), beside: readdirSync(join(stack.filesConfig.HEXA_FILES_DIR, '..')) };
  });

  const refused = (label: string, path: string, answer: { status: number; body: string; headers: Record<string, unknown> }) => {
    const code = (JSON.parse(answer.body) as { code?: string }).code;
    expect({ label, path, status: answer.status, code, type: answer.headers['content-type'] }).toEqual({
      label,
      path,
      status: 400,
      code: expect.stringMatching(/^(invalid_input|invalid_path)$/),
      type: expect.stringContaining('application/problem+json'),
    });
  };
  const raw = (method: string, target: string) => rawRequest(port, method, `/api/workspaces/${slug}${target}`, { authorization: `Bearer ${token}`, 'content-length': '0' });

  it('refuses every form in a download, a delete and a listing prefix with a 400 problem+json', async () => {
    for (const path of inUrls) {
      refused('download', path, await raw('GET', `/files/${path}`));
      refused('delete', path, await raw('DELETE', `/files/${path}`));
      refused('delete recursive', path, await raw('DELETE', `/files/${path}?recursive=true`));
      refused('listing', path, await raw('GET', `/files?prefix=${path}`));
    }
  });

  it('refuses every form as the from or the to of a move, and as a new folder', async () => {
    for (const path of inBodies) {
      const move = async (payload: object) => {
        const answer = await stack.call({ method: 'POST', url: url('/files/move'), token, payload });
        return { status: answer.statusCode, body: answer.body, headers: answer.headers };
      };
      refused('move from', path, await move({ from: path, to: 'moved.txt' }));
      refused('move to', path, await move({ from: 'target.txt', to: path }));
      const folder = await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path } });
      refused('folder', path, { status: folder.statusCode, body: folder.body, headers: folder.headers });
    }
    expect((await stack.call({ method: 'GET', url: url('/files/target.txt'), token })).body).toBe('stay');
  });

  it('refuses to delete, move or make a folder through a symbolic link that leads outside, and touches nothing there', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'hexa-outside-'));
    try {
      writeFileSync(join(outside, 'precious.txt'), 'not yours');
      mkdirSync(join(outside, 'folder'));
      symlinkSync(join(outside, 'precious.txt'), join(folderOf(), 'link-file'));
      symlinkSync(outside, join(folderOf(), 'link-dir'));
      const expectInvalid = async (label: string, answer: Promise<{ statusCode: number; json: () => unknown }>) =>
        expect({ label, ...((await answer).json() as object) }).toMatchObject({ label, status: 400, code: 'invalid_path' });
      await expectInvalid('delete through', stack.call({ method: 'DELETE', url: url('/files/link-dir/precious.txt'), token }));
      await expectInvalid('delete folder through', stack.call({ method: 'DELETE', url: url('/files/link-dir/folder'), token }));
      await expectInvalid('delete recursive', stack.call({ method: 'DELETE', url: url('/files/link-dir?recursive=true'), token }));
      await expectInvalid('delete link to file', stack.call({ method: 'DELETE', url: url('/files/link-file'), token }));
      await expectInvalid('move out of', stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'link-dir/precious.txt', to: 'stolen.txt' } }));
      await expectInvalid('move into', stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'target.txt', to: 'link-dir/planted.txt' } }));
      await expectInvalid('move folder into', stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: 'target.txt', to: 'link-dir/folder/planted.txt' } }));
      await expectInvalid('folder through', stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: 'link-dir/planted' } }));
      await expectInvalid('folder deep through', stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: 'link-dir/folder/a/b' } }));
      expect(tree(outside)).toEqual(['folder', 'precious.txt']);
      expect(readFileSync(join(outside, 'precious.txt'), 'utf8')).toBe('not yours');
      expect((await stack.call({ method: 'GET', url: url('/files/target.txt'), token })).body).toBe('stay');
      expect(existsSync(join(folderOf(), 'stolen.txt'))).toBe(false);
    } finally {
      rmSync(join(folderOf(), 'link-file'));
      rmSync(join(folderOf(), 'link-dir'));
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('has written nothing anywhere: not beside the workspace folders in HEXA_FILES_DIR, not beside HEXA_FILES_DIR', () => {
    expect(tree(stack.filesConfig.HEXA_FILES_DIR)).toEqual(before.inside);
    // The folder above is shared with other programs: only what a traversal would have left there counts.
    const appeared = readdirSync(join(stack.filesConfig.HEXA_FILES_DIR, '..')).filter((name) => !before.beside.includes(name));
    expect(appeared.filter((name) => escapes.includes(name))).toEqual([]);
  });
});

describe('when a path is at the limits (1024 characters, 255 bytes a name) with multibyte names', () => {
  const at = (path: string) => url(`/files/${path.split('/').map(encodeURIComponent).join('/')}`);

  it('accepts a name of 255 bytes and refuses one of 256, though each is far under 255 characters', async () => {
    const fits = '€'.repeat(85); // 3 bytes each: 255 bytes, 85 characters
    const accepted = await stack.call({ method: 'PUT', url: at(fits), token, payload: 'x', headers: { 'content-type': 'application/octet-stream' } });
    expect(accepted.statusCode).toBe(201);
    expect(accepted.json()).toMatchObject({ name: fits, size: 1 });
    expect(existsSync(join(folderOf(), fits))).toBe(true);
    const over = `${fits}a`;
    const refused = await stack.call({ method: 'PUT', url: at(over), token, payload: 'x', headers: { 'content-type': 'application/octet-stream' } });
    expect(refused.json()).toMatchObject({ status: 400, code: 'invalid_path', detail: expect.stringContaining('longer than 255 bytes') });
    expect((await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: over } })).json()).toMatchObject({ status: 400, code: 'invalid_path' });
    expect((await stack.call({ method: 'POST', url: url('/files/move'), token, payload: { from: fits, to: `é${fits}` } })).json()).toMatchObject({ status: 400, code: 'invalid_path' });
    expect(existsSync(join(folderOf(), over))).toBe(false);
    expect((await stack.call({ method: 'DELETE', url: at(fits), token })).statusCode).toBe(204);
  });

  it('accepts a path of 1024 characters (multibyte) and refuses one of 1025', async () => {
    // Seven folders of 127 "é" (254 bytes each), then a name of 128 characters and 255 bytes: 1024 characters.
    const folders = Array.from({ length: 7 }, (_, index) => `${index}${'é'.repeat(126)}`);
    const longest = [...folders, `a${'é'.repeat(127)}`].join('/');
    expect(longest.length).toBe(1024);
    const accepted = await stack.call({ method: 'PUT', url: at(longest), token, payload: 'deep', headers: { 'content-type': 'application/octet-stream' } });
    expect(accepted.statusCode).toBe(201);
    expect((await stack.call({ method: 'GET', url: at(longest), token })).body).toBe('deep');
    const tooLong = [...folders, `ab${'é'.repeat(127)}`].join('/');
    expect(tooLong.length).toBe(1025);
    const refused = await stack.call({ method: 'PUT', url: at(tooLong), token, payload: 'deep', headers: { 'content-type': 'application/octet-stream' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: expect.stringMatching(/^(invalid_input|invalid_path)$/) });
    expect((await stack.call({ method: 'POST', url: url('/folders'), token, payload: { path: tooLong } })).json()).toMatchObject({ status: 400 });
    expect((await stack.call({ method: 'DELETE', url: url(`/files/${encodeURIComponent(folders[0]!)}?recursive=true`), token })).statusCode).toBe(204);
  });
});
