import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { useConnectionTypesStore } from '../../src/stores/connection-types';
import { useConnectionsStore, type Connection, type ConnectionInput } from '../../src/stores/connections';

/** A connection as the API answers it: the secret's value is null, every field names its variable in runs. */
const warehouse = (overrides: Partial<Connection> = {}): Connection => ({
  id: '00000000-0000-4000-8000-0000000000c1',
  slug: 'warehouse',
  name: 'Warehouse',
  type: 'POSTGRESQL',
  description: '',
  fields: [
    { code: 'host', secret: false, value: 'db.example.org', env: 'WAREHOUSE_HOST' },
    { code: 'port', secret: false, value: '5432', env: 'WAREHOUSE_PORT' },
    { code: 'dbName', secret: false, value: 'cases', env: 'WAREHOUSE_DB_NAME' },
    { code: 'username', secret: false, value: 'analyst', env: 'WAREHOUSE_USERNAME' },
    { code: 'password', secret: true, value: null, env: 'WAREHOUSE_PASSWORD' },
  ],
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
  ...overrides,
});
const input: ConnectionInput = {
  name: 'Warehouse',
  type: 'POSTGRESQL',
  fields: [
    { code: 'host', value: 'db.example.org', secret: false },
    { code: 'port', value: '5432', secret: false },
    { code: 'dbName', value: 'cases', secret: false },
    { code: 'username', value: 'analyst', secret: false },
    { code: 'password', value: 'correct horse', secret: true },
  ],
};

describe('the connections store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when an Admin creates a connection', () => {
    it('sends it with its idempotency key and lists it by name, the secret never kept', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/connections': () => json(200, { items: [warehouse({ slug: 'zambia-dhis2', name: 'Zambia DHIS2', type: 'DHIS2' })] }),
        'POST /workspaces/{slug}/connections': () => json(201, warehouse()),
      });
      installFakeApi(network);
      const store = useConnectionsStore();
      await store.load('malaria');
      await store.create('malaria', input, 'key-1');
      const call = network.callsTo('POST /workspaces/{slug}/connections')[0];
      expect([call?.body, call?.request.headers.get('idempotency-key')]).toEqual([input, 'key-1']);
      expect(store.items.map((item) => item.name)).toEqual(['Warehouse', 'Zambia DHIS2']);
      expect(JSON.stringify(store.$state)).not.toContain('correct horse');
    });

    it("names the missing fields from the API's problem", async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/connections': () => problem(400, 'connection_field_missing', { detail: 'A POSTGRESQL connection needs "host".' }) }));
      const store = useConnectionsStore();
      await expect(store.create('malaria', { ...input, fields: input.fields.slice(1) })).rejects.toThrow('A POSTGRESQL connection needs "host".');
      expect(store.items).toEqual([]);
    });
  });

  describe('when an Admin changes or deletes one', () => {
    it('shows the changed connection, forgets its earlier test, and drops a deleted one', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/connections': () => json(200, { items: [warehouse(), warehouse({ slug: 'archive', name: 'Archive' })] }),
        'POST /workspaces/{slug}/connections/{connection}/test': () => json(200, { ok: true, message: 'Connected: PostgreSQL 17.2', durationMs: 12 }),
        'PATCH /workspaces/{slug}/connections/{connection}': ({ body }) => json(200, warehouse({ description: (body as { description: string }).description })),
        'DELETE /workspaces/{slug}/connections/{connection}': () => new Response(null, { status: 204 }),
      });
      installFakeApi(network);
      const store = useConnectionsStore();
      await store.load('malaria');
      await store.test('malaria', 'warehouse');
      // A secret left empty is sent without a value: the API keeps the stored one.
      const fields = [...input.fields.slice(0, 4), { code: 'password', secret: true }];
      await store.update('malaria', 'warehouse', { description: 'Weekly cases', fields });
      await store.remove('malaria', 'archive');
      expect(network.callsTo('PATCH /workspaces/{slug}/connections/{connection}')[0]?.body).toEqual({ description: 'Weekly cases', fields });
      expect(store.items.map((item) => [item.slug, item.description])).toEqual([['warehouse', 'Weekly cases']]);
      expect(store.tests).toEqual({});
    });

    it('keeps a connection the API would not delete, with the reason', async () => {
      installFakeApi(
        fakeNetwork({
          'GET /workspaces/{slug}/connections': () => json(200, { items: [warehouse()] }),
          'DELETE /workspaces/{slug}/connections/{connection}': () => problem(409, 'workspace_archived', { detail: 'This workspace is archived; restore it to change it.' }),
        }),
      );
      const store = useConnectionsStore();
      await store.load('malaria');
      await expect(store.remove('malaria', 'warehouse')).rejects.toThrow(/archived/);
      expect(store.items).toHaveLength(1);
    });
  });

  describe('when an Editor tests a connection', () => {
    it("keeps a refused login as a result with the server's words", async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/connections/{connection}/test': () => json(200, { ok: false, message: 'password authentication failed for user "analyst"', durationMs: 40 }) }));
      const store = useConnectionsStore();
      const testing = store.test('malaria', 'warehouse');
      expect(store.testing).toBe('warehouse');
      await testing;
      expect([store.testing, store.tests.warehouse]).toEqual([null, { ok: false, message: 'password authentication failed for user "analyst"', durationMs: 40 }]);
    });

    it('says why a type cannot be tested', async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/connections/{connection}/test': () => problem(409, 'connection_test_unsupported', { detail: 'Only PostgreSQL connections can be tested for now.' }) }));
      const store = useConnectionsStore();
      await store.test('malaria', 'dhis2');
      expect(store.tests.dhis2).toEqual({ error: 'Only PostgreSQL connections can be tested for now.' });
    });
  });

  describe('when a Viewer opens the page anyway', () => {
    it("shows the API's refusal and lists nothing", async () => {
      installFakeApi(fakeNetwork({ 'GET /workspaces/{slug}/connections': () => problem(403, 'forbidden', { detail: 'Your role in this workspace (VIEWER) does not grant connections:use.' }) }));
      const store = useConnectionsStore();
      await store.load('malaria');
      expect([store.items, store.error]).toEqual([[], 'You do not have permission to do this.']);
    });
  });

  describe('when the form needs the connection types', () => {
    const postgres = { type: 'POSTGRESQL' as const, label: 'PostgreSQL', fields: [{ code: 'host', secret: false }, { code: 'password', secret: true }], testable: true };

    it('reads them once from the API and describes a type it did not list by its code', async () => {
      const network = fakeNetwork({ 'GET /connection-types': () => json(200, [postgres]) });
      installFakeApi(network);
      const types = useConnectionTypesStore();
      await Promise.all([types.load(), types.load()]);
      await types.load();
      expect(network.callsTo('GET /connection-types')).toHaveLength(1);
      expect(types.infoOf('POSTGRESQL')).toEqual(postgres);
      expect(types.infoOf('S3')).toEqual({ type: 'S3', label: 'S3', fields: [], testable: false });
    });

    it("shows the API's problem, and asks again next time", async () => {
      let fail = true;
      const network = fakeNetwork({ 'GET /connection-types': () => (fail ? problem(503, 'service_unavailable', { detail: 'The files service cannot be reached.' }) : json(200, [postgres])) });
      installFakeApi(network);
      const types = useConnectionTypesStore();
      await types.load();
      expect([types.items, types.error]).toEqual([[], expect.any(String)]);
      fail = false;
      await types.load();
      expect([types.items, types.error]).toEqual([[postgres], null]);
      expect(network.callsTo('GET /connection-types')).toHaveLength(2);
    });
  });
});
