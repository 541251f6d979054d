import { setActivePinia } from 'pinia';
import { deferred, fakeNetwork, installFakeApi, json, problem } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { useMembersStore, type Invitation, type Member, type UserCandidate } from '../../src/stores/members';

const member = (userId: string, name: string, role: Member['role']): Member => ({ userId, name, email: `${name.toLowerCase()}@example.org`, role, since: '2026-11-01T00:00:00.000Z' });
const invitation = (id: string, email: string, status: Invitation['status'] = 'PENDING'): Invitation => ({
  id,
  workspaceSlug: 'malaria',
  email,
  role: 'VIEWER',
  status,
  invitedBy: { id: '00000000-0000-4000-8000-000000000001', name: 'Ada' },
  createdAt: '2026-11-01T00:00:00.000Z',
  expiresAt: '2026-11-08T00:00:00.000Z',
  respondedAt: null,
  delivery: { status: 'sent', attempts: 1, lastError: null, lastAttemptAt: null, sentAt: '2026-11-01T00:00:01.000Z' },
});
const page = <T>(items: T[]) => json(200, { items, page: 1, perPage: 100, totalItems: items.length, totalPages: 1 });
const ada = member('00000000-0000-4000-8000-000000000001', 'Ada', 'ADMIN');
const bob = member('00000000-0000-4000-8000-000000000002', 'Bob', 'VIEWER');

describe('the members store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when an Admin opens the members page', () => {
    it('lists the members, and the Pending and Declined invitations apart', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/members': () => page([ada, bob]),
        'GET /workspaces/{slug}/invitations': ({ query }) =>
          page(query.get('status') === 'PENDING' ? [invitation('00000000-0000-4000-8000-0000000000c1', 'new@example.org')] : [invitation('00000000-0000-4000-8000-0000000000c2', 'no@example.org', 'DECLINED')]),
      });
      installFakeApi(network);
      const store = useMembersStore();
      await store.load('malaria');
      await store.loadInvitations('malaria');
      expect(store.members.map((item) => item.name)).toEqual(['Ada', 'Bob']);
      expect(store.pending.map((item) => item.email)).toEqual(['new@example.org']);
      expect(store.declined.map((item) => item.email)).toEqual(['no@example.org']);
      expect(network.callsTo('GET /workspaces/{slug}/invitations').map((call) => call.query.get('status')).sort()).toEqual(['DECLINED', 'PENDING']);
    });
  });

  describe('when a workspace has more than 100 pending invitations', () => {
    it('pages through one section without moving the other', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/invitations': ({ query }) => {
          const wanted = Number(query.get('page'));
          const status = query.get('status') as Invitation['status'];
          const totalItems = status === 'PENDING' ? 130 : 1;
          const items = [invitation(`00000000-0000-4000-8000-${String(wanted).padStart(12, '0')}`, `${status.toLowerCase()}-${wanted}@example.org`, status)];
          return json(200, { items, page: wanted, perPage: 100, totalItems, totalPages: Math.ceil(totalItems / 100) });
        },
      });
      installFakeApi(network);
      const store = useMembersStore();
      await store.loadInvitations('malaria');
      expect([store.invitationPages.PENDING, store.invitationPages.DECLINED]).toEqual([
        { page: 1, totalPages: 2, totalItems: 130 },
        { page: 1, totalPages: 1, totalItems: 1 },
      ]);
      await store.loadInvitations('malaria', 'PENDING', 2);
      expect([store.pending.map((item) => item.email), store.declined.map((item) => item.email), store.invitationPages.PENDING.page]).toEqual([['pending-2@example.org'], ['declined-1@example.org'], 2]);
      expect(network.calls.slice(2).map((call) => [call.query.get('status'), call.query.get('page')])).toEqual([['PENDING', '2']]);
    });
  });

  describe('when an Admin invites', () => {
    it('invites a person found by name by their id, with the role and an idempotency key', async () => {
      const candidate: UserCandidate = { id: '00000000-0000-4000-8000-000000000003', name: 'Cleo', email: 'cleo@example.org', pendingInvitation: false };
      const network = fakeNetwork({
        'GET /users': () => json(200, { items: [candidate] }),
        'POST /workspaces/{slug}/invitations': ({ body }) => json(201, { ...invitation('00000000-0000-4000-8000-0000000000c3', 'cleo@example.org'), role: (body as { role: Member['role'] }).role }),
      });
      installFakeApi(network);
      const store = useMembersStore();
      await store.searchCandidates('malaria', ' cle ');
      expect(network.callsTo('GET /users')[0]?.query.get('query')).toBe('cle');
      expect(network.callsTo('GET /users')[0]?.query.get('workspace')).toBe('malaria');
      await store.invite('malaria', { userId: candidate.id }, 'EDITOR', 'key-1');
      const call = network.callsTo('POST /workspaces/{slug}/invitations')[0];
      expect(call?.body).toEqual({ userId: candidate.id, role: 'EDITOR' });
      expect(call?.request.headers.get('idempotency-key')).toBe('key-1');
      expect(store.pending[0]?.email).toBe('cleo@example.org');
      expect(store.candidates).toEqual([]);
    });

    it('keeps the answer to the latest search when an older one arrives late', async () => {
      const slow = deferred<Response>();
      const cleo: UserCandidate = { id: '00000000-0000-4000-8000-000000000003', name: 'Cleo', email: 'cleo@example.org', pendingInvitation: false };
      installFakeApi(fakeNetwork({ 'GET /users': ({ query }) => (query.get('query') === 'c' ? slow.promise : json(200, { items: [cleo] })) }));
      const store = useMembersStore();
      const first = store.searchCandidates('malaria', 'c');
      await store.searchCandidates('malaria', 'cleo');
      slow.resolve(json(200, { items: [] }));
      await first;
      expect(store.candidates.map((item) => item.name)).toEqual(['Cleo']);
    });

    it('says why an invitation was refused', async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/invitations': () => problem(409, 'already_member', { detail: 'bob@example.org is already a member of this workspace.' }) }));
      await expect(useMembersStore().invite('malaria', { email: 'bob@example.org' }, 'VIEWER')).rejects.toThrow('bob@example.org is already a member of this workspace.');
    });
  });

  describe('when an Admin changes roles and removes members', () => {
    it('shows the role the API answers, and removes the member', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/members': () => page([ada, bob]),
        'PATCH /workspaces/{slug}/members/{userId}': ({ body }) => json(200, { ...bob, role: (body as { role: Member['role'] }).role }),
        'DELETE /workspaces/{slug}/members/{userId}': () => new Response(null, { status: 204 }),
      });
      installFakeApi(network);
      const store = useMembersStore();
      await store.load('malaria');
      await store.changeRole('malaria', bob.userId, 'EDITOR');
      expect(store.members.find((item) => item.userId === bob.userId)?.role).toBe('EDITOR');
      await store.remove('malaria', bob.userId);
      expect(store.members.map((item) => item.name)).toEqual(['Ada']);
    });

    it('keeps the last Admin and says why', async () => {
      installFakeApi(
        fakeNetwork({
          'GET /workspaces/{slug}/members': () => page([ada]),
          'PATCH /workspaces/{slug}/members/{userId}': () => problem(409, 'last_admin', { detail: 'A workspace keeps at least one Admin.' }),
        }),
      );
      const store = useMembersStore();
      await store.load('malaria');
      await expect(store.changeRole('malaria', ada.userId, 'VIEWER')).rejects.toThrow('A workspace keeps at least one Admin.');
      expect(store.members[0]?.role).toBe('ADMIN');
    });
  });

  describe('when a member leaves', () => {
    it('asks the API to remove the caller, and says why the last Admin cannot', async () => {
      let admins = 2;
      const network = fakeNetwork({
        'DELETE /workspaces/{slug}/members/me': () =>
          admins-- > 1 ? new Response(null, { status: 204 }) : problem(409, 'last_admin', { detail: 'You are the last Admin: make someone else Admin before you leave.' }),
      });
      installFakeApi(network);
      const store = useMembersStore();
      await store.leave('malaria');
      await expect(store.leave('malaria')).rejects.toThrow('You are the last Admin: make someone else Admin before you leave.');
      expect(network.callsTo('DELETE /workspaces/{slug}/members/me')).toHaveLength(2);
    });
  });

  describe('when an Admin resends or revokes an invitation', () => {
    it('moves a resent declined invitation to Pending, and drops a revoked one', async () => {
      const declinedOne = invitation('00000000-0000-4000-8000-0000000000c2', 'no@example.org', 'DECLINED');
      const network = fakeNetwork({
        'GET /workspaces/{slug}/invitations': ({ query }) => page(query.get('status') === 'DECLINED' ? [declinedOne] : []),
        'POST /workspaces/{slug}/invitations/{id}/resend': () => json(200, { ...declinedOne, status: 'PENDING' }),
        'DELETE /workspaces/{slug}/invitations/{id}': () => new Response(null, { status: 204 }),
      });
      installFakeApi(network);
      const store = useMembersStore();
      await store.loadInvitations('malaria');
      await store.resend('malaria', declinedOne.id);
      expect([store.pending.map((item) => item.id), store.declined]).toEqual([[declinedOne.id], []]);
      await store.revoke('malaria', declinedOne.id);
      expect(store.pending).toEqual([]);
      expect(network.callsTo('DELETE /workspaces/{slug}/invitations/{id}')[0]?.params.id).toBe(declinedOne.id);
    });
  });
});
