import { baseUrl, deferred, fakeNetwork, json, problem, session } from '../testing/fake-network';
import { createApi } from '../../src/api/client';

const workspacesPage = { items: [], page: 1, perPage: 20, totalItems: 0, totalPages: 0 };

describe('the API client', () => {
  describe('when a session has begun', () => {
    it('sends the access token from memory with each request', async () => {
      const network = fakeNetwork({ 'GET /workspaces': () => json(200, workspacesPage) });
      const api = createApi({ baseUrl, fetch: network.fetch });
      api.session.begin(session('access-1'));
      await api.client.GET('/workspaces');
      expect(network.calls[0]?.request.headers.get('authorization')).toBe('Bearer access-1');
    });
  });

  describe('when the access token has expired', () => {
    it('refreshes once with the cookie and sends the request again, body included', async () => {
      const network = fakeNetwork({
        'POST /auth/refresh': () => json(200, session('access-2')),
        'POST /me/tokens': ({ request }) =>
          request.headers.get('authorization') === 'Bearer access-2'
            ? json(201, { id: '00000000-0000-4000-8000-00000000000a', name: 'ci', scope: 'full', createdAt: '2026-11-01T00:00:00Z', expiresAt: '2027-01-01T00:00:00Z', lastUsedAt: null, token: `hexa_pat_${'a'.repeat(43)}` })
            : problem(401, 'token_expired'),
      });
      const api = createApi({ baseUrl, fetch: network.fetch });
      api.session.begin(session('access-1'));
      const { data } = await api.client.POST('/me/tokens', { body: { name: 'ci' } });
      expect(data?.name).toBe('ci');
      expect(network.callsTo('POST /auth/refresh')).toHaveLength(1);
      // The refresh sends no token in its body: the browser's cookie carries it.
      expect(network.callsTo('POST /auth/refresh')[0]?.body).toBeUndefined();
      expect(network.callsTo('POST /me/tokens').map((call) => call.body)).toEqual([{ name: 'ci' }, { name: 'ci' }]);
      expect(api.session.accessToken).toBe('access-2');
    });

    it('refreshes once for every request that failed together', async () => {
      const refreshed = deferred<Response>();
      const network = fakeNetwork({
        'POST /auth/refresh': () => refreshed.promise,
        'GET /workspaces': ({ request }) => (request.headers.get('authorization') === 'Bearer access-2' ? json(200, workspacesPage) : problem(401, 'token_expired')),
      });
      const api = createApi({ baseUrl, fetch: network.fetch });
      api.session.begin(session('access-1'));
      const pending = Promise.all([api.client.GET('/workspaces'), api.client.GET('/workspaces'), api.client.GET('/workspaces')]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      refreshed.resolve(json(200, session('access-2')));
      const answers = await pending;
      expect(answers.map((answer) => answer.response.status)).toEqual([200, 200, 200]);
      // A refresh token works once: three refreshes would end the session family.
      expect(network.callsTo('POST /auth/refresh')).toHaveLength(1);
    });
  });

  describe('when the session cannot be renewed', () => {
    it('answers the 401, forgets the token and says the session ended, without trying again', async () => {
      let ended = 0;
      const network = fakeNetwork({
        'POST /auth/refresh': () => problem(401, 'invalid_token'),
        'GET /me': () => problem(401, 'token_expired'),
      });
      const api = createApi({ baseUrl, fetch: network.fetch, onSessionEnded: () => (ended += 1) });
      api.session.begin(session('access-1'));
      const { response, error } = await api.client.GET('/me');
      expect(response.status).toBe(401);
      expect(error?.code).toBe('token_expired');
      expect(network.callsTo('GET /me')).toHaveLength(1);
      expect(ended).toBe(1);
      expect(api.session.accessToken).toBeNull();
    });
  });

  describe('when an auth operation answers 401', () => {
    it('passes the answer on without a refresh (a wrong password is not an expired session)', async () => {
      const network = fakeNetwork({ 'POST /auth/login': () => problem(401, 'invalid_credentials') });
      const api = createApi({ baseUrl, fetch: network.fetch });
      const { error } = await api.client.POST('/auth/login', { body: { email: 'ada@example.org', password: 'wrong' } });
      expect(error?.code).toBe('invalid_credentials');
      expect(network.calls).toHaveLength(1);
      expect(network.calls[0]?.request.headers.get('authorization')).toBeNull();
    });
  });
});
