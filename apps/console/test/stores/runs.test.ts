import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { runDuration, useRunsStore, type Run } from '../../src/stores/runs';
import { queuedRun } from '../testing/runs';

const id = '00000000-0000-4000-8000-0000000000a1';
const running: Run = { ...queuedRun(id), status: 'running', startedAt: '2026-11-01T00:00:01.000Z' };
const succeeded: Run = { ...running, status: 'succeeded', exitCode: 0, finishedAt: '2026-11-01T00:00:03.000Z', canCancel: false };

/** A `text/event-stream` answer sent in the chunks given, as the runner frames it. */
function eventStream(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
}
const log = (text: string) => `event: log\ndata: ${JSON.stringify(text)}\n\n`;
const end = (run: Run) => `event: end\ndata: ${JSON.stringify(run)}\n\n`;

describe('the runs store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when a member lists runs', () => {
    it('asks for the chosen pipeline and status, a page at a time', async () => {
      const network = fakeNetwork({ 'GET /workspaces/{slug}/runs': ({ query }) => json(200, { items: [succeeded], page: Number(query.get('page')), perPage: 50, totalItems: 51, totalPages: 2 }) });
      installFakeApi(network);
      const store = useRunsStore();
      await store.load('malaria', { pipeline: 'weekly', status: 'succeeded' }, 2);
      const query = network.calls[0]?.query;
      expect([query?.get('pipeline'), query?.get('status'), query?.get('page')]).toEqual(['weekly', 'succeeded', '2']);
      expect([store.items.length, store.page, store.totalPages]).toEqual([1, 2, 2]);
    });
  });

  describe('when a run page is open', () => {
    it('shows the output as it arrives, with the token, and the run as it ended', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/runs/{id}': () => json(200, running),
        'GET /workspaces/{slug}/runs/{id}/logs': () => eventStream([log('hello from hexa\n'), 'event: log\ndata: "do', 'ne\\n"\n\n', end(succeeded)]),
      });
      const api = installFakeApi(network);
      api.session.begin({ accessToken: 'token-1', tokenType: 'Bearer', expiresIn: 900, user: { id: '00000000-0000-4000-8000-000000000001', email: 'ada@example.org', name: 'Ada', organizationRole: 'MEMBER', createdAt: '2026-11-01T00:00:00.000Z' } });
      const store = useRunsStore();
      await store.open('malaria', id, 10_000, 5);
      expect(store.logs).toBe('hello from hexa\ndone\n');
      expect([store.run?.status, store.run?.exitCode, store.following]).toEqual(['succeeded', 0, false]);
      const stream = network.callsTo('GET /workspaces/{slug}/runs/{id}/logs')[0]?.request;
      expect([stream?.headers.get('accept'), stream?.headers.get('authorization')]).toEqual(['text/event-stream', 'Bearer token-1']);
    });

    it('opens the stream again when it closed before the run ended, without repeating output', async () => {
      const answers = [[log('first line\n')], [log('first line\n'), log('second line\n'), end(succeeded)]];
      const network = fakeNetwork({
        'GET /workspaces/{slug}/runs/{id}': () => json(200, running),
        'GET /workspaces/{slug}/runs/{id}/logs': () => eventStream(answers.shift() ?? []),
      });
      installFakeApi(network);
      const store = useRunsStore();
      await store.open('malaria', id, 10_000, 5);
      expect(store.logs).toBe('first line\nsecond line\n');
      expect(network.callsTo('GET /workspaces/{slug}/runs/{id}/logs')).toHaveLength(2);
    });

    it('follows the status while the run is queued, then running', async () => {
      let reads = 0;
      let release!: () => void;
      const ended = new Promise<void>((resolve) => (release = resolve));
      const network = fakeNetwork({
        // Queued when the page opens, running at the next read.
        'GET /workspaces/{slug}/runs/{id}': () => json(200, reads++ === 0 ? queuedRun(id) : running),
        'GET /workspaces/{slug}/runs/{id}/logs': async () => {
          await ended;
          return eventStream([end(succeeded)]);
        },
      });
      installFakeApi(network);
      const store = useRunsStore();
      const opened = store.open('malaria', id, 5, 5);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(store.run?.status).toBe('queued');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(store.run?.status).toBe('running');
      release();
      await opened;
      expect(store.run?.status).toBe('succeeded');
    });

    it("says why a run cannot be shown, from the API's problem", async () => {
      installFakeApi(fakeNetwork({ 'GET /workspaces/{slug}/runs/{id}': () => problem(404, 'not_found', { detail: 'No such run in this workspace.' }) }));
      const store = useRunsStore();
      await store.open('malaria', id);
      expect([store.run, store.runError]).toEqual([null, 'No such run in this workspace.']);
    });
  });

  describe('when someone cancels', () => {
    it('shows the run as the API answers, and a refusal in words', async () => {
      const network = fakeNetwork({
        'POST /workspaces/{slug}/runs/{id}/cancel': ({ params }) =>
          params.id === id ? json(202, { ...running, status: 'canceled', reason: 'Canceled by Ada', canCancel: false }) : problem(409, 'conflict', { detail: 'The run has already ended.' }),
      });
      installFakeApi(network);
      const store = useRunsStore();
      store.run = running;
      await store.cancel('malaria', id);
      expect([store.run?.status, store.run?.reason]).toEqual(['canceled', 'Canceled by Ada']);
      await expect(store.cancel('malaria', '00000000-0000-4000-8000-0000000000a2')).rejects.toThrow('The run has already ended.');
    });
  });

  it('gives a duration once started, until now while running', () => {
    const started = Date.parse('2026-11-01T00:00:00.000Z');
    expect(runDuration({ startedAt: null, finishedAt: null }, started)).toBeNull();
    expect(runDuration({ startedAt: '2026-11-01T00:00:00.000Z', finishedAt: null }, started + 65_000)).toBe('1 min 5 s');
    expect(runDuration({ startedAt: '2026-11-01T00:00:00.000Z', finishedAt: '2026-11-01T00:00:09.400Z' }, started + 999_999)).toBe('9 s');
  });
});
