import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { useDatabaseStore, type DatabaseTable, type PasswordRotation } from '../../src/stores/database';

const ready = { status: 'ready', host: '127.0.0.1', port: 5433, dbName: 'ws_1', tableCount: 1 };
const cases: DatabaseTable = { name: 'cases', kind: 'table', rowCount: 3, rowCountExact: true, sizeBytes: 8192, columns: [{ name: 'district', type: 'text', nullable: false }] };
const credentials = (password: string) => ({ host: '127.0.0.1', port: 5433, dbName: 'ws_1', username: 'ws_1_owner', password, url: `postgresql://ws_1_owner:${password}@127.0.0.1:5433/ws_1` });
const rotation = (status: PasswordRotation['status']): PasswordRotation => ({ id: '00000000-0000-4000-8000-0000000000d1', status, requestedAt: '2026-11-01T00:00:00.000Z' });

describe('the database store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when a member opens the database page', () => {
    it('shows its tables and pages through a table\'s rows', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/database': () => json(200, ready),
        'GET /workspaces/{slug}/database/tables': () => json(200, { items: [cases], page: 1, perPage: 50, totalItems: 1, totalPages: 1 }),
        'GET /workspaces/{slug}/database/tables/{table}/rows': ({ query }) =>
          json(200, { table: 'cases', columns: cases.columns, rows: [[`Dakar ${query.get('page')}`]], page: Number(query.get('page')), perPage: 20, hasMore: query.get('page') === '1' }),
      });
      installFakeApi(network);
      const store = useDatabaseStore();
      await store.load('malaria');
      expect(store.tables.map((table) => table.name)).toEqual(['cases']);
      await store.openTable('malaria', cases);
      expect([store.rows?.rows, store.rows?.hasMore]).toEqual([[['Dakar 1']], true]);
      await store.openTable('malaria', cases, 2);
      expect([store.rows?.rows, store.rows?.hasMore]).toEqual([[['Dakar 2']], false]);
      expect(network.callsTo('GET /workspaces/{slug}/database/tables/{table}/rows')[0]?.params.table).toBe('cases');
    });

    it('does not ask for tables while the database is being prepared', async () => {
      const network = fakeNetwork({ 'GET /workspaces/{slug}/database': () => json(200, { ...ready, status: 'provisioning', tableCount: null }) });
      installFakeApi(network);
      const store = useDatabaseStore();
      await store.load('malaria');
      expect(store.database?.status).toBe('provisioning');
      expect(network.calls).toHaveLength(1);
    });
  });

  describe('when an Admin regenerates the password', () => {
    it('follows the rotation until it has succeeded, then reads the shown credentials again', async () => {
      const statuses: PasswordRotation['status'][] = ['running', 'succeeded'];
      let password = 'old-password';
      const network = fakeNetwork({
        'GET /workspaces/{slug}/database/credentials': () => json(200, credentials(password)),
        'POST /workspaces/{slug}/database/password-rotations': () => json(202, rotation('pending')),
        'GET /workspaces/{slug}/database/password-rotations/{id}': () => {
          const status = statuses.shift() ?? 'succeeded';
          if (status === 'succeeded') password = 'new-password';
          return json(200, rotation(status));
        },
      });
      installFakeApi(network);
      const store = useDatabaseStore();
      await store.revealCredentials('malaria');
      expect(store.credentials?.password).toBe('old-password');
      await store.rotatePassword('malaria', 'key-1', 5);
      expect(store.rotation?.status).toBe('succeeded');
      expect(store.credentials?.password).toBe('new-password');
      expect(network.callsTo('GET /workspaces/{slug}/database/password-rotations/{id}')).toHaveLength(2);
      expect(network.callsTo('POST /workspaces/{slug}/database/password-rotations')[0]?.request.headers.get('idempotency-key')).toBe('key-1');
    });

    it('says when a rotation is already under way', async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/database/password-rotations': () => problem(409, 'password_rotation_in_progress', { detail: 'A password rotation is already under way.' }) }));
      const store = useDatabaseStore();
      await store.rotatePassword('malaria', 'key-2', 5);
      expect(store.rotationError).toBe('A password rotation is already under way.');
      expect(store.rotation).toBeNull();
    });
  });

  describe('when an Admin retries a failed database', () => {
    it('shows it being prepared again, with one idempotency key', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/database': () => json(200, { ...ready, status: 'failed', reason: 'The cluster refused the connection.', tableCount: null }),
        'POST /workspaces/{slug}/database/retry': () => json(202, { ...ready, status: 'provisioning', tableCount: null }),
      });
      installFakeApi(network);
      const store = useDatabaseStore();
      await store.load('malaria');
      expect(store.database?.reason).toBe('The cluster refused the connection.');
      await store.retry('malaria', 'key-3');
      expect([store.database?.status, store.retryError]).toEqual(['provisioning', null]);
      expect(network.callsTo('POST /workspaces/{slug}/database/retry')[0]?.request.headers.get('idempotency-key')).toBe('key-3');
    });

    it('says why a retry was refused', async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/database/retry': () => problem(409, 'conflict', { detail: 'Only a failed database can be retried.' }) }));
      const store = useDatabaseStore();
      await store.retry('malaria', 'key-4');
      expect(store.retryError).toBe('Only a failed database can be retried.');
    });
  });

  describe('when a Viewer asks for credentials anyway', () => {
    it("shows the API's refusal and no credentials", async () => {
      installFakeApi(fakeNetwork({ 'GET /workspaces/{slug}/database/credentials': () => problem(403, 'forbidden') }));
      const store = useDatabaseStore();
      await store.revealCredentials('malaria');
      expect([store.credentials, store.credentialsError]).toEqual([null, 'You do not have permission to do this.']);
    });
  });
});
