import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem, session } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { usePersonalAccessTokensStore, type PersonalAccessToken } from '../../src/stores/personal-access-tokens';

const listed: PersonalAccessToken = {
  id: '00000000-0000-4000-8000-0000000000b1',
  name: 'nightly export',
  scope: 'read-only',
  createdAt: '2026-11-01T00:00:00.000Z',
  expiresAt: '2027-01-30T00:00:00.000Z',
  lastUsedAt: null,
};
const secret = `hexa_pat_${'x'.repeat(43)}`;

describe('the personal access tokens store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when a person creates a token', () => {
    it('shows its secret once and lists it without the secret', async () => {
      const network = fakeNetwork({
        'GET /me/tokens': () => json(200, { items: [listed] }),
        'POST /me/tokens': ({ body }) => json(201, { ...listed, id: '00000000-0000-4000-8000-0000000000b2', ...(body as object), lastUsedAt: null, token: secret }),
      });
      installFakeApi(network).session.begin(session('access-1'));
      const store = usePersonalAccessTokensStore();
      await store.load();
      expect(await store.create({ name: 'ci', scope: 'full', expiresInDays: 30 })).toBe(true);
      expect(network.callsTo('POST /me/tokens')[0]?.body).toEqual({ name: 'ci', scope: 'full', expiresInDays: 30 });
      expect(store.created?.token).toBe(secret);
      expect(store.items.map((token) => token.name)).toEqual(['ci', 'nightly export']);
      expect(JSON.stringify(store.items)).not.toContain(secret);
      store.dismissSecret();
      expect(store.created).toBeNull();
    });

    it('says why a creation was refused', async () => {
      installFakeApi(fakeNetwork({ 'POST /me/tokens': () => problem(409, 'conflict', { detail: 'You have 100 live tokens already.' }) }));
      const store = usePersonalAccessTokensStore();
      expect(await store.create({ name: 'one too many' })).toBe(false);
      expect(store.error).toBe('You have 100 live tokens already.');
    });
  });

  describe('when a person revokes a token', () => {
    it('removes it from the list', async () => {
      const network = fakeNetwork({ 'GET /me/tokens': () => json(200, { items: [listed] }), 'DELETE /me/tokens/{id}': () => new Response(null, { status: 204 }) });
      installFakeApi(network);
      const store = usePersonalAccessTokensStore();
      await store.load();
      expect(await store.revoke(listed.id)).toBe(true);
      expect(network.callsTo('DELETE /me/tokens/{id}')[0]?.params.id).toBe(listed.id);
      expect(store.items).toEqual([]);
    });

    it('keeps it listed when the API refuses', async () => {
      installFakeApi(fakeNetwork({ 'GET /me/tokens': () => json(200, { items: [listed] }), 'DELETE /me/tokens/{id}': () => problem(404, 'not_found') }));
      const store = usePersonalAccessTokensStore();
      await store.load();
      expect(await store.revoke(listed.id)).toBe(false);
      expect(store.items).toHaveLength(1);
      expect(store.error).toBe('This no longer exists.');
    });
  });
});
