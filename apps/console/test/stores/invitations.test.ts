import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, MemoryStorage, problem, session } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { useAuthStore } from '../../src/stores/auth';
import { useInvitationsStore, type ReceivedInvitation } from '../../src/stores/invitations';

const token = 'a'.repeat(43);
const received: ReceivedInvitation = {
  id: '00000000-0000-4000-8000-0000000000e1',
  workspace: { slug: 'malaria', name: 'Malaria' },
  role: 'VIEWER',
  email: 'nina@example.org',
  status: 'PENDING',
  invitedBy: { id: '00000000-0000-4000-8000-000000000001', name: 'Ada' },
  createdAt: '2026-11-01T00:00:00.000Z',
  expiresAt: '2026-11-08T00:00:00.000Z',
};
const emptyPage = json(200, { items: [], page: 1, perPage: 50, totalItems: 0, totalItemsCapped: false, totalPages: 0 });

describe('the invitations store', () => {
  beforeEach(() => {
    setActivePinia(testingPinia());
    Object.defineProperty(globalThis, 'localStorage', { value: new MemoryStorage(), configurable: true });
  });

  describe('when a new person signs up from an invitation link', () => {
    it('creates the account with the token and begins the session in memory', async () => {
      const network = fakeNetwork({
        'GET /invitations/preview': () => json(200, { ...received, hasAccount: false }),
        'POST /auth/register': () => json(201, session('access-nina', { email: 'nina@example.org', name: 'Nina' })),
      });
      const api = installFakeApi(network);
      const store = useInvitationsStore();
      const preview = await store.preview(token);
      expect(network.callsTo('GET /invitations/preview')[0]?.query.get('token')).toBe(token);
      expect(preview.hasAccount).toBe(false);
      await store.register(token, 'Nina', 'mangoes in the dry season');
      expect(network.callsTo('POST /auth/register')[0]?.body).toEqual({ token, name: 'Nina', password: 'mangoes in the dry season' });
      expect(api.session.accessToken).toBe('access-nina');
      expect(useAuthStore().user?.name).toBe('Nina');
    });

    it('says when the link was replaced by a resend', async () => {
      installFakeApi(fakeNetwork({ 'GET /invitations/preview': () => problem(404, 'invitation_not_found', { detail: 'This invitation link is not valid (a newer one may have been sent).' }) }));
      await expect(useInvitationsStore().preview(token)).rejects.toThrow('This invitation link is not valid (a newer one may have been sent).');
    });
  });

  describe('when a signed-in person answers their invitations', () => {
    it('accepts one (the workspace joins the selector) and declines another', async () => {
      const other = { ...received, id: '00000000-0000-4000-8000-0000000000e2', workspace: { slug: 'polio', name: 'Polio' } };
      const network = fakeNetwork({
        'GET /me/invitations': () => json(200, { items: [received, other] }),
        'POST /invitations/{id}/accept': () => json(200, { ...received, status: 'ACCEPTED' }),
        'POST /invitations/{id}/decline': () => json(200, { ...other, status: 'DECLINED' }),
        'GET /workspaces': () => emptyPage,
      });
      installFakeApi(network);
      const store = useInvitationsStore();
      await store.loadMine();
      await store.accept(received.id);
      await store.decline(other.id);
      expect(store.mine).toEqual([]);
      expect(network.callsTo('POST /invitations/{id}/accept')[0]?.params.id).toBe(received.id);
      expect(network.callsTo('GET /workspaces')).toHaveLength(1);
    });
  });
});
