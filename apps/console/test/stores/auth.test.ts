import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem, session } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { useAuthStore } from '../../src/stores/auth';

describe('the auth store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when the page loads with a session cookie', () => {
    it('restores the session without a sign-in', async () => {
      const network = fakeNetwork({ 'POST /auth/refresh': () => json(200, session('access-1', { name: 'Ada' })) });
      const api = installFakeApi(network);
      const auth = useAuthStore();
      await auth.restore();
      expect(auth.user?.name).toBe('Ada');
      expect(api.session.accessToken).toBe('access-1');
      // Restoring twice (every navigation asks) costs one refresh.
      await auth.restore();
      expect(network.callsTo('POST /auth/refresh')).toHaveLength(1);
    });
  });

  describe('when the page loads without a session', () => {
    it('stays signed out', async () => {
      installFakeApi(fakeNetwork({ 'POST /auth/refresh': () => problem(401, 'unauthenticated') }));
      const auth = useAuthStore();
      await auth.restore();
      expect(auth.signedIn).toBe(false);
    });
  });

  describe('when a person signs in', () => {
    it('keeps the user and the access token (in memory)', async () => {
      const network = fakeNetwork({ 'POST /auth/login': () => json(200, session('access-1', { organizationRole: 'ADMIN' })) });
      const api = installFakeApi(network);
      const auth = useAuthStore();
      expect(await auth.signIn('ada@example.org', 'a long password 1')).toBe(true);
      expect(network.calls[0]?.body).toEqual({ email: 'ada@example.org', password: 'a long password 1' });
      expect(auth.organizationAdmin).toBe(true);
      expect(api.session.accessToken).toBe('access-1');
    });

    it('shows why a sign-in failed, in words', async () => {
      installFakeApi(fakeNetwork({ 'POST /auth/login': () => problem(401, 'invalid_credentials') }));
      const auth = useAuthStore();
      expect(await auth.signIn('ada@example.org', 'wrong')).toBe(false);
      expect(auth.error).toBe('Wrong e-mail or password.');
      expect(auth.signedIn).toBe(false);
    });

    it('says when there were too many attempts', async () => {
      installFakeApi(fakeNetwork({ 'POST /auth/login': () => problem(429, 'too_many_requests') }));
      const auth = useAuthStore();
      await auth.signIn('ada@example.org', 'wrong');
      expect(auth.error).toMatch(/Too many attempts/);
    });
  });

  describe('when a person signs out', () => {
    it('ends the session on the server and forgets the token, even if the server is unreachable', async () => {
      const network = fakeNetwork({
        'POST /auth/login': () => json(200, session('access-1')),
        'POST /auth/logout': () => {
          throw new TypeError('Failed to fetch');
        },
      });
      const api = installFakeApi(network);
      const auth = useAuthStore();
      await auth.signIn('ada@example.org', 'a long password 1');
      await expect(auth.signOut()).rejects.toThrow(TypeError);
      expect(network.callsTo('POST /auth/logout')).toHaveLength(1);
      expect(api.session.accessToken).toBeNull();
      expect(auth.user).toBeNull();
    });
  });
});
