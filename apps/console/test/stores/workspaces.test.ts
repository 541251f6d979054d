import { setActivePinia } from 'pinia';
import { deferred, fakeNetwork, installFakeApi, json, MemoryStorage, problem, session, type Handler } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { useAuthStore } from '../../src/stores/auth';
import { lastWorkspaceKey, useWorkspacesStore, type Workspace, type WorkspaceSummary } from '../../src/stores/workspaces';

const userId = '00000000-0000-4000-8000-000000000001';

function summary(slug: string, overrides: Partial<WorkspaceSummary> = {}): WorkspaceSummary {
  return { slug, name: slug.toUpperCase(), status: 'ready', role: 'VIEWER', countries: [], createdAt: '2026-11-01T00:00:00.000Z', ...overrides };
}

function workspace(slug: string, overrides: Partial<Workspace> = {}): Workspace {
  return {
    id: '00000000-0000-4000-8000-0000000000aa',
    slug,
    name: slug.toUpperCase(),
    description: '# Welcome',
    descriptionHtml: '<h1>Welcome</h1>',
    countries: [],
    dockerImage: null,
    effectiveImage: 'hexa/base-environment:latest',
    status: 'ready',
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    role: 'ADMIN',
    roleSource: 'member',
    permissions: ['workspace:read', 'workspace:manage-settings'],
    ...overrides,
  };
}

const page = (items: WorkspaceSummary[]) => json(200, { items, page: 1, perPage: 50, totalItems: items.length, totalItemsCapped: false, totalPages: 1 });

/** Signs a member (or an organization role) in through the store, as the login page does. */
async function signedIn(routes: Parameters<typeof fakeNetwork>[0], organizationRole: 'OWNER' | 'ADMIN' | 'MEMBER' = 'MEMBER') {
  const network = fakeNetwork({ 'POST /auth/login': () => json(200, session('access-1', { id: userId, organizationRole })), ...routes });
  installFakeApi(network);
  await useAuthStore().signIn('ada@example.org', 'a long password 1');
  return network;
}

describe('the workspaces store', () => {
  beforeEach(() => {
    setActivePinia(testingPinia());
    Object.defineProperty(globalThis, 'localStorage', { value: new MemoryStorage(), configurable: true });
  });

  describe('when a person searches the selector', () => {
    it('asks for the matching workspaces by name', async () => {
      const network = await signedIn({ 'GET /workspaces': () => page([summary('malaria-bf')]) });
      const store = useWorkspacesStore();
      await store.search('  malaria ');
      expect(network.callsTo('GET /workspaces')[0]?.query.get('query')).toBe('malaria');
      expect(store.items.map((item) => item.slug)).toEqual(['malaria-bf']);
    });

    it('keeps the answer to the latest query when an older one arrives late', async () => {
      const slow = deferred<Response>();
      const network = await signedIn({
        'GET /workspaces': ({ query }) => (query.get('query') === 'ma' ? slow.promise : page([summary('malaria-bf')])),
      });
      const store = useWorkspacesStore();
      const first = store.search('ma');
      await store.search('malaria');
      slow.resolve(page([summary('mali'), summary('malaria-bf')]));
      await first;
      expect(store.items.map((item) => item.slug)).toEqual(['malaria-bf']);
      expect(network.callsTo('GET /workspaces')).toHaveLength(2);
    });
  });

  describe('when deciding whether to offer "Create workspace"', () => {
    it('offers it to a member who is Admin of a workspace', async () => {
      await signedIn({ 'GET /workspaces': () => page([summary('a', { role: 'VIEWER' }), summary('b', { role: 'ADMIN' })]) });
      const store = useWorkspacesStore();
      await store.search('');
      expect(store.canCreate).toBe(true);
    });

    it('does not offer it to a member who administers nothing', async () => {
      await signedIn({ 'GET /workspaces': () => page([summary('a', { role: 'EDITOR' })]) });
      const store = useWorkspacesStore();
      await store.search('');
      expect(store.canCreate).toBe(false);
    });

    it('offers it to an organization Admin', async () => {
      await signedIn({ 'GET /workspaces': () => page([]) }, 'ADMIN');
      const store = useWorkspacesStore();
      await store.search('');
      expect(store.canCreate).toBe(true);
    });
  });

  describe('when a person opens a workspace', () => {
    it('holds its role and permissions, and remembers it as the last used for this person', async () => {
      await signedIn({ 'GET /workspaces/{slug}': ({ params }) => json(200, workspace(params.slug ?? '', { role: 'VIEWER', permissions: ['workspace:read'] })) });
      const store = useWorkspacesStore();
      await store.open('malaria-bf');
      expect(store.current?.permissions).toEqual(['workspace:read']);
      expect(store.lastUsedSlug()).toBe('malaria-bf');
      expect(localStorage.getItem(lastWorkspaceKey(userId))).toBe('malaria-bf');
    });

    it('forgets a remembered workspace that is gone, and says so', async () => {
      await signedIn({ 'GET /workspaces/{slug}': () => problem(404, 'workspace_not_found') });
      localStorage.setItem(lastWorkspaceKey(userId), 'archived-one');
      const store = useWorkspacesStore();
      expect(await store.open('archived-one')).toBeNull();
      expect(store.currentError).toBe('This workspace does not exist, or you are not one of its members.');
      expect(store.lastUsedSlug()).toBeNull();
    });
  });

  describe('when a person creates a workspace', () => {
    it('sends the idempotency key and puts the new workspace first in the selector', async () => {
      const network = await signedIn({
        'POST /workspaces': ({ body }) => json(201, workspace('malaria-bf', { name: (body as { name: string }).name, status: 'provisioning' })),
      });
      const store = useWorkspacesStore();
      const created = await store.create({ name: 'Malaria BF', countries: ['BF'] }, 'key-1');
      expect(created.status).toBe('provisioning');
      const call = network.callsTo('POST /workspaces')[0];
      expect(call?.request.headers.get('idempotency-key')).toBe('key-1');
      expect(call?.body).toEqual({ name: 'Malaria BF', countries: ['BF'] });
      expect(store.items[0]).toMatchObject({ slug: 'malaria-bf', status: 'provisioning', role: 'ADMIN' });
      expect(store.canCreate).toBe(true);
    });

    it('shows the API problem when creation is refused', async () => {
      await signedIn({ 'POST /workspaces': () => problem(403, 'forbidden') });
      await expect(useWorkspacesStore().create({ name: 'X' }, 'key-2')).rejects.toThrow('You do not have permission to do this.');
    });

    it('follows the status until the database is ready, then stops', async () => {
      const statuses: Workspace['status'][] = ['provisioning', 'provisioning', 'ready'];
      const answer: Handler = ({ params }) => json(200, workspace(params.slug ?? '', { status: statuses.shift() ?? 'ready' }));
      const network = await signedIn({ 'GET /workspaces/{slug}': answer });
      const store = useWorkspacesStore();
      const seen: string[] = [];
      const done = deferred<void>();
      store.followStatus('malaria-bf', (next) => {
        seen.push(next.status);
        if (next.status !== 'provisioning') done.resolve();
      }, 5);
      await done.promise;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(seen).toEqual(['provisioning', 'provisioning', 'ready']);
      expect(network.callsTo('GET /workspaces/{slug}')).toHaveLength(3);
    });

    it('stops following when asked (the dialog closed)', async () => {
      const network = await signedIn({ 'GET /workspaces/{slug}': ({ params }) => json(200, workspace(params.slug ?? '', { status: 'provisioning' })) });
      const stop = useWorkspacesStore().followStatus('malaria-bf', () => undefined, 5);
      await new Promise((resolve) => setTimeout(resolve, 25));
      stop();
      const asked = network.callsTo('GET /workspaces/{slug}').length;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(network.callsTo('GET /workspaces/{slug}')).toHaveLength(asked);
    });
  });

  describe('when an Editor saves the home page', () => {
    it('sends the Markdown and shows the page as the service rendered it', async () => {
      const network = await signedIn({
        'GET /workspaces/{slug}': ({ params }) => json(200, workspace(params.slug ?? '')),
        'PUT /workspaces/{slug}/description': ({ params, body }) =>
          json(200, workspace(params.slug ?? '', { description: (body as { markdown: string }).markdown, descriptionHtml: '<h2>Reports</h2>' })),
      });
      const store = useWorkspacesStore();
      await store.open('malaria-bf');
      await store.updateDescription('malaria-bf', '## Reports');
      expect(network.callsTo('PUT /workspaces/{slug}/description')[0]?.body).toEqual({ markdown: '## Reports' });
      expect(store.current?.descriptionHtml).toBe('<h2>Reports</h2>');
    });
  });

  describe('when an Admin changes the settings', () => {
    it('sends only what changed and keeps the selector in step', async () => {
      const network = await signedIn({
        'GET /workspaces': () => page([summary('malaria-bf')]),
        'GET /workspaces/{slug}': ({ params }) => json(200, workspace(params.slug ?? '')),
        'PATCH /workspaces/{slug}': ({ params }) => json(200, workspace(params.slug ?? '', { name: 'Malaria', countries: [{ code: 'BF', name: 'Burkina Faso' }] })),
      });
      const store = useWorkspacesStore();
      await store.search('');
      await store.open('malaria-bf');
      await store.update('malaria-bf', { name: 'Malaria', countries: ['BF'] });
      expect(network.callsTo('PATCH /workspaces/{slug}')[0]?.body).toEqual({ name: 'Malaria', countries: ['BF'] });
      expect(store.current?.name).toBe('Malaria');
      expect(store.items[0]).toMatchObject({ name: 'Malaria', countries: [{ code: 'BF', name: 'Burkina Faso' }] });
    });

    it('says why an image was refused', async () => {
      await signedIn({ 'PATCH /workspaces/{slug}': () => problem(400, 'invalid_input', { errors: [{ field: '/body/dockerImage', message: 'is not an image reference' }] }) });
      await expect(useWorkspacesStore().update('malaria-bf', { dockerImage: 'Not An Image' })).rejects.toThrow('Please check: dockerImage is not an image reference.');
    });
  });

  describe('when an Admin archives the workspace', () => {
    it('drops it from the selector and forgets it as the last used', async () => {
      await signedIn({
        'GET /workspaces': () => page([summary('malaria-bf'), summary('polio')]),
        'GET /workspaces/{slug}': ({ params }) => json(200, workspace(params.slug ?? '')),
        'POST /workspaces/{slug}/archive': ({ params }) => json(200, { ...workspace(params.slug ?? ''), archivedAt: '2026-11-29T00:00:00.000Z' }),
      });
      const store = useWorkspacesStore();
      await store.search('');
      await store.open('malaria-bf');
      await store.archive('malaria-bf');
      expect(store.items.map((item) => item.slug)).toEqual(['polio']);
      expect(store.current).toBeNull();
      expect(store.lastUsedSlug()).toBeNull();
    });
  });

  describe('when an organization Admin restores a workspace', () => {
    it('lists the archived ones, and the restored one returns to the selector', async () => {
      let archived = true;
      const network = await signedIn(
        {
          'GET /workspaces': ({ query }) => (query.get('archived') === 'true' ? page(archived ? [summary('old', { archivedAt: '2026-11-28T00:00:00.000Z' })] : []) : page(archived ? [] : [summary('old')])),
          'POST /workspaces/{slug}/restore': ({ params }) => ((archived = false), json(200, workspace(params.slug ?? ''))),
        },
        'ADMIN',
      );
      const store = useWorkspacesStore();
      await store.loadArchived();
      expect(store.archived.map((item) => item.slug)).toEqual(['old']);
      await store.restore('old');
      expect(store.archived).toEqual([]);
      expect(store.items.map((item) => item.slug)).toEqual(['old']);
      expect(network.callsTo('POST /workspaces/{slug}/restore')[0]?.params.slug).toBe('old');
    });
  });
});
