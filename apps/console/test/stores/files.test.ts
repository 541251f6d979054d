import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { foldersOf, useFilesStore, type FileEntry } from '../../src/stores/files';

const usage = { usedBytes: 12, quotaBytes: 1_000_000, maxFileBytes: 100_000 };
const entry = (path: string, type: FileEntry['type'] = 'file'): FileEntry => ({
  name: path.split('/').pop()!,
  path,
  type,
  size: type === 'file' ? 12 : 0,
  modified: '2026-11-01T00:00:00.000Z',
  contentType: type === 'file' ? 'text/csv' : null,
});
const listing = (prefix: string, items: FileEntry[], page = 1) => json(200, { prefix, items, page, perPage: 100, totalItems: items.length, totalPages: 2, usage });

describe('the files store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when a member browses the files', () => {
    it('lists a folder a page at a time, with the usage', async () => {
      const network = fakeNetwork({ 'GET /workspaces/{slug}/files': ({ query }) => listing(query.get('prefix') ?? '', [entry('reports/2026', 'folder')], Number(query.get('page'))) });
      installFakeApi(network);
      const store = useFilesStore();
      await store.load('malaria', '');
      expect(network.calls[0]?.query.has('prefix')).toBe(false);
      await store.load('malaria', 'reports', 2);
      expect([network.calls[1]?.query.get('prefix'), store.listing?.page, store.listing?.usage.quotaBytes]).toEqual(['reports', 2, 1_000_000]);
    });

    it('keeps the folder the person went to when an older folder answers late', async () => {
      let answerRoot!: () => void;
      const rootAnswered = new Promise<void>((resolve) => (answerRoot = resolve));
      installFakeApi(
        fakeNetwork({
          'GET /workspaces/{slug}/files': async ({ query }) => {
            if (!query.get('prefix')) await rootAnswered;
            return listing(query.get('prefix') ?? '', [entry(query.get('prefix') ? 'reports/a.csv' : 'root.csv')]);
          },
        }),
      );
      const store = useFilesStore();
      const root = store.load('malaria', '');
      await store.load('malaria', 'reports');
      answerRoot();
      await root;
      expect([store.prefix, store.listing?.items.map((item) => item.path)]).toEqual(['reports', ['reports/a.csv']]);
    });

    it('downloads a file by its path, its folders kept as folders', async () => {
      const network = fakeNetwork({ 'GET /workspaces/{slug}/files/{path}': () => new Response('district,cases\n', { status: 200, headers: { 'content-type': 'text/csv' } }) });
      installFakeApi(network);
      const blob = await useFilesStore().download('malaria', 'reports/2026/cases à Bobo.csv');
      expect(await blob.text()).toBe('district,cases\n');
      expect(new URL(network.calls[0]!.request.url).pathname).toBe('/api/workspaces/malaria/files/reports/2026/cases%20%C3%A0%20Bobo.csv');
    });
  });

  describe('when an Editor changes the files', () => {
    it('uploads the bytes into the shown folder, then lists it again', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/files': ({ query }) => listing(query.get('prefix') ?? '', []),
        'PUT /workspaces/{slug}/files/{path}': () => json(201, entry('reports/cases.csv')),
      });
      installFakeApi(network);
      const store = useFilesStore();
      await store.load('malaria', 'reports');
      await store.upload('malaria', new Blob(['district,cases\n']), 'cases.csv');
      const put = network.callsTo('PUT /workspaces/{slug}/files/{path}')[0]!;
      expect(new URL(put.request.url).pathname).toBe('/api/workspaces/malaria/files/reports/cases.csv');
      expect(put.request.headers.get('content-type')).toBe('application/octet-stream');
      expect(await put.request.clone().text()).toBe('district,cases\n');
      expect(network.callsTo('GET /workspaces/{slug}/files')).toHaveLength(2);
      expect(store.uploading).toBeNull();
    });

    it("says why an upload was refused, from the API's problem", async () => {
      installFakeApi(fakeNetwork({ 'PUT /workspaces/{slug}/files/{path}': () => problem(409, 'quota_exceeded', { detail: 'The workspace has no room left for this file.' }) }));
      const store = useFilesStore();
      await expect(store.upload('malaria', new Blob(['x']), 'big.bin')).rejects.toThrow('The workspace has no room left for this file.');
      expect(store.uploading).toBeNull();
    });

    it('creates a folder in the shown folder, and deletes a folder with what it holds', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/files': ({ query }) => listing(query.get('prefix') ?? '', []),
        'POST /workspaces/{slug}/folders': ({ body }) => json(201, entry((body as { path: string }).path, 'folder')),
        'DELETE /workspaces/{slug}/files/{path}': () => new Response(null, { status: 204 }),
      });
      installFakeApi(network);
      const store = useFilesStore();
      await store.load('malaria', 'reports');
      await store.createFolder('malaria', '2027', 'key-1');
      await store.remove('malaria', entry('reports/2027', 'folder'));
      const post = network.callsTo('POST /workspaces/{slug}/folders')[0]!;
      expect([post.body, post.request.headers.get('idempotency-key')]).toEqual([{ path: 'reports/2027' }, 'key-1']);
      const removal = network.callsTo('DELETE /workspaces/{slug}/files/{path}')[0]!;
      expect([new URL(removal.request.url).pathname, removal.query.get('recursive')]).toEqual(['/api/workspaces/malaria/files/reports/2027', 'true']);
    });
  });

  describe('when an Editor moves or renames an entry', () => {
    it('sends the old and the new path, then lists the shown folder again', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/files': ({ query }) => listing(query.get('prefix') ?? '', []),
        'POST /workspaces/{slug}/files/move': ({ body }) => json(200, entry((body as { to: string }).to)),
      });
      installFakeApi(network);
      const store = useFilesStore();
      await store.load('malaria', 'reports');
      const moved = await store.move('malaria', 'reports/cases.csv', 'reports/2026/cases à Bobo.csv');
      expect(network.callsTo('POST /workspaces/{slug}/files/move')[0]?.body).toEqual({ from: 'reports/cases.csv', to: 'reports/2026/cases à Bobo.csv', overwrite: false });
      expect([moved.name, store.prefix, network.callsTo('GET /workspaces/{slug}/files')]).toEqual(['cases à Bobo.csv', 'reports', [expect.anything(), expect.anything()]]);
    });

    it('says in words that something is already at the new path, and keeps the listing', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/files': ({ query }) => listing(query.get('prefix') ?? '', [entry('reports/a.csv'), entry('reports/b.csv')]),
        'POST /workspaces/{slug}/files/move': () => problem(409, 'file_exists', { detail: 'Something is already at reports/b.csv; send overwrite: true to replace a file.' }),
      });
      installFakeApi(network);
      const store = useFilesStore();
      await store.load('malaria', 'reports');
      await expect(store.move('malaria', 'reports/a.csv', 'reports/b.csv')).rejects.toThrow('Something of that name is already there. Choose another name.');
      expect(network.callsTo('GET /workspaces/{slug}/files')).toHaveLength(1);
      expect(store.listing?.items).toHaveLength(2);
    });

    it("shows the API's own sentence when a folder would move into itself", async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/files/move': () => problem(400, 'invalid_path', { detail: 'A folder cannot move into itself.' }) }));
      await expect(useFilesStore().move('malaria', 'reports', 'reports/old')).rejects.toThrow('A folder cannot move into itself.');
    });
  });

  it('names the folders from the root down, for the breadcrumb', () => {
    expect(foldersOf('')).toEqual([]);
    expect(foldersOf('reports/2026')).toEqual([
      { name: 'reports', path: 'reports' },
      { name: '2026', path: 'reports/2026' },
    ]);
  });
});
