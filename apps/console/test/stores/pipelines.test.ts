import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { codeFromName, parseCommand, parseParameters, usePipelinesStore, type Pipeline } from '../../src/stores/pipelines';
import { queuedRun } from '../testing/runs';

const pipeline = (code: string, name = code): Pipeline => ({
  code,
  name,
  description: '',
  command: ['sh', '-c', 'echo hello'],
  timeoutSeconds: 3600,
  memoryMb: 512,
  cpus: 1,
  createdBy: '00000000-0000-4000-8000-000000000001',
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
});
describe('the pipelines store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when an Editor creates a pipeline', () => {
    it('sends it with its idempotency key and lists it by code', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/pipelines': () => json(200, { items: [pipeline('weekly')] }),
        'POST /workspaces/{slug}/pipelines': ({ body }) => json(201, { ...pipeline('daily'), ...(body as object) }),
      });
      installFakeApi(network);
      const store = usePipelinesStore();
      await store.load('malaria');
      await store.create('malaria', { code: 'daily', name: 'Daily', command: ['sh', '-c', 'echo hi'] }, 'key-1');
      expect(store.items.map((item) => item.code)).toEqual(['daily', 'weekly']);
      const call = network.callsTo('POST /workspaces/{slug}/pipelines')[0];
      expect(call?.request.headers.get('idempotency-key')).toBe('key-1');
      expect(call?.body).toEqual({ code: 'daily', name: 'Daily', command: ['sh', '-c', 'echo hi'] });
    });

    it("shows the API's refusal of a duplicate code in words", async () => {
      installFakeApi(fakeNetwork({ 'POST /workspaces/{slug}/pipelines': () => problem(409, 'conflict', { detail: 'A pipeline with the code "daily" already exists.' }) }));
      const store = usePipelinesStore();
      await expect(store.create('malaria', { code: 'daily', name: 'Daily', command: ['true'] })).rejects.toThrow('A pipeline with the code "daily" already exists.');
      expect(store.items).toEqual([]);
    });
  });

  describe('when a pipeline is changed or deleted', () => {
    it('shows the changed pipeline, and drops a deleted one', async () => {
      installFakeApi(
        fakeNetwork({
          'GET /workspaces/{slug}/pipelines': () => json(200, { items: [pipeline('daily'), pipeline('weekly')] }),
          'PATCH /workspaces/{slug}/pipelines/{code}': ({ params, body }) => json(200, { ...pipeline(params.code!), ...(body as object) }),
          'DELETE /workspaces/{slug}/pipelines/{code}': () => new Response(null, { status: 204 }),
        }),
      );
      const store = usePipelinesStore();
      await store.load('malaria');
      await store.update('malaria', 'weekly', { name: 'Weekly cases' });
      await store.remove('malaria', 'daily');
      expect(store.items.map((item) => item.name)).toEqual(['Weekly cases']);
    });

    it('keeps a pipeline whose run is still going, with the reason', async () => {
      installFakeApi(
        fakeNetwork({
          'GET /workspaces/{slug}/pipelines': () => json(200, { items: [pipeline('daily')] }),
          'DELETE /workspaces/{slug}/pipelines/{code}': () => problem(409, 'conflict', { detail: 'A run of this pipeline is queued or running; cancel it or wait until it ends.' }),
        }),
      );
      const store = usePipelinesStore();
      await store.load('malaria');
      await expect(store.remove('malaria', 'daily')).rejects.toThrow(/queued or running/);
      expect(store.items).toHaveLength(1);
    });
  });

  describe('when anyone launches a run', () => {
    it('sends the parameters and answers the queued run', async () => {
      const network = fakeNetwork({ 'POST /workspaces/{slug}/pipelines/{code}/runs': ({ params }) => json(202, queuedRun('00000000-0000-4000-8000-0000000000a1', params.code)) });
      installFakeApi(network);
      const run = await usePipelinesStore().launch('malaria', 'weekly', { weeks: 4 }, 'key-2');
      expect([run.status, run.pipelineCode]).toEqual(['queued', 'weekly']);
      expect(network.calls[0]?.body).toEqual({ parameters: { weeks: 4 } });
      expect(network.calls[0]?.request.headers.get('idempotency-key')).toBe('key-2');
    });
  });

  describe('reading what a person typed', () => {
    it('takes parameters as a JSON object, or none', () => {
      expect(parseParameters(' ')).toEqual({});
      expect(parseParameters('{"weeks": 4}')).toEqual({ parameters: { weeks: 4 } });
      expect(parseParameters('[4]').error).toMatch(/JSON object/);
      expect(parseParameters('{weeks').error).toMatch(/not valid JSON/);
    });

    it('takes a command as a JSON array of non-empty strings', () => {
      expect(parseCommand('["sh", "-c", "echo hi"]')).toEqual({ command: ['sh', '-c', 'echo hi'] });
      expect(parseCommand('sh -c "echo hi"').error).toMatch(/JSON array/);
      expect(parseCommand('[]').error).toMatch(/non-empty/);
      expect(parseCommand('["sh", 1]').error).toMatch(/non-empty strings/);
    });

    it('suggests a code from the name', () => {
      expect(codeFromName('Weekly Cases — Sénégal')).toBe('weekly-cases-senegal');
    });
  });
});
