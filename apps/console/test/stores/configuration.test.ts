import { setActivePinia } from 'pinia';
import { fakeNetwork, installFakeApi, json, problem } from '../testing/fake-network';
import { testingPinia } from '../testing/pinia';
import { differences, parseValue, useConfigurationStore } from '../../src/stores/configuration';

const configuration = (properties: Record<string, unknown>, etag: string) => json(200, { properties }, { etag });

describe('the configuration store', () => {
  beforeEach(() => setActivePinia(testingPinia()));

  describe('when an Admin changes a property', () => {
    it('sends the ETag it read in If-Match and keeps the new one', async () => {
      const network = fakeNetwork({
        'GET /workspaces/{slug}/configuration': () => configuration({ WEEKS: 4 }, '"v1"'),
        'PUT /workspaces/{slug}/configuration/{key}': ({ body }) => configuration({ WEEKS: (body as { value: unknown }).value }, '"v2"'),
      });
      installFakeApi(network);
      const store = useConfigurationStore();
      await store.load('malaria');
      expect(await store.set('malaria', 'WEEKS', 6)).toBe(true);
      const call = network.callsTo('PUT /workspaces/{slug}/configuration/{key}')[0];
      expect(call?.request.headers.get('if-match')).toBe('"v1"');
      expect(call?.params).toEqual({ slug: 'malaria', key: 'WEEKS' });
      expect(call?.body).toEqual({ value: 6 });
      expect(store.properties).toEqual({ WEEKS: 6 });
      expect(store.etag).toBe('"v2"');
    });
  });

  describe('when another Admin changed the configuration meanwhile', () => {
    it('writes nothing, names what changed, and shows the current version only after a reload', async () => {
      let version = 1;
      const network = fakeNetwork({
        'GET /workspaces/{slug}/configuration': () =>
          version === 1 ? configuration({ WEEKS: 4, OLD: true }, '"v1"') : configuration({ WEEKS: 5, URL: 'https://example.org' }, '"v2"'),
        'DELETE /workspaces/{slug}/configuration/{key}': () => problem(412, 'precondition_failed'),
      });
      installFakeApi(network);
      const store = useConfigurationStore();
      await store.load('malaria');
      version = 2;
      expect(await store.remove('malaria', 'OLD')).toBe(false);
      expect(store.conflict).toEqual({ added: ['URL'], changed: ['WEEKS'], removed: ['OLD'] });
      // What the person saw stays until they choose to reload.
      expect(store.properties).toEqual({ WEEKS: 4, OLD: true });
      await store.load('malaria');
      expect(store.conflict).toBeNull();
      expect(store.etag).toBe('"v2"');
    });
  });

  describe('when the API refuses a key', () => {
    it('says why in words', async () => {
      installFakeApi(
        fakeNetwork({
          'GET /workspaces/{slug}/configuration': () => configuration({}, '"v1"'),
          'PUT /workspaces/{slug}/configuration/{key}': () => problem(400, 'invalid_input', { errors: [{ field: '/params/key', message: 'names a secret' }] }),
        }),
      );
      const store = useConfigurationStore();
      await store.load('malaria');
      expect(await store.set('malaria', 'API_TOKEN', 'x')).toBe(false);
      expect(store.error).toBe('Please check: params/key names a secret.');
    });
  });
});

describe('a configuration value typed by a person', () => {
  it('is JSON, and never null', () => {
    expect(parseValue('{"a": [1, true]}')).toEqual({ ok: true, value: { a: [1, true] } });
    expect(parseValue('"text"')).toEqual({ ok: true, value: 'text' });
    expect(parseValue('text')).toMatchObject({ ok: false, message: expect.stringMatching(/Not valid JSON/) });
    expect(parseValue('null')).toMatchObject({ ok: false, message: expect.stringMatching(/delete the property/) });
    expect(parseValue('  ')).toMatchObject({ ok: false });
  });

  it('compares versions by value, not by reference', () => {
    expect(differences({ a: { x: 1 }, b: 1 }, { a: { x: 1 }, b: 2 })).toEqual({ added: [], changed: ['b'], removed: [] });
  });
});
