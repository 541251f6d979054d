import { createHttpApp } from '../src/http.js';

// The contract is OpenAPI 3.1: its schemas are JSON Schema 2020-12. A draft-07 validator ignores
// `unevaluatedProperties` (and a lax one ignores keywords it does not know), so these schemas show
// which dialect, and how strictly, the services' routes really validate.

/** A body composed of parts (`allOf`), closed as a whole: only 2020-12's `unevaluatedProperties` can do that. */
const composedBody = {
  type: 'object',
  allOf: [
    { type: 'object', properties: { name: { type: 'string', maxLength: 50 } }, required: ['name'] },
    { type: 'object', properties: { countries: { type: 'array', items: { type: 'string', maxLength: 2 }, maxItems: 5 } } },
  ],
  unevaluatedProperties: false,
};

describe('when a route\'s body schema combines parts with allOf and unevaluatedProperties: false', () => {
  const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
  app.post('/things', { schema: { body: composedBody } }, async (request) => request.body);
  beforeAll(() => app.ready());
  afterAll(() => app.close());

  it('accepts the fields that some part declares', async () => {
    const response = await app.inject({ method: 'POST', url: '/things', payload: { name: 'Malaria', countries: ['BF'] } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ name: 'Malaria', countries: ['BF'] });
  });

  it('refuses a field that no part declares with 400 invalid_input naming it', async () => {
    const response = await app.inject({ method: 'POST', url: '/things', payload: { name: 'Malaria', countrys: ['BF'] } });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 400, code: 'invalid_input', errors: [{ field: 'body/countrys', message: 'unknown field "countrys"' }] });
    expect(response.json().detail).toContain('countrys');
  });
});

describe('when a route\'s schema has a keyword no validator knows', () => {
  it('fails at app.ready(), naming the keyword, instead of ignoring it', async () => {
    const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
    // `maxLenght`: a typo that a lax validator would skip, leaving the field unbounded.
    app.post('/things', { schema: { body: { type: 'object', properties: { name: { type: 'string', maxLenght: 50 } }, additionalProperties: false } } }, async () => ({}));
    await expect(app.ready()).rejects.toThrow('strict mode: unknown keyword: "maxLenght"');
    await app.close();
  });
});
