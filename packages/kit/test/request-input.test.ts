import { createHttpApp } from '../src/http.js';
import { maxJsonBodyDepth, nestsDeeperThan } from '../src/request-input.js';

// Every service parses its JSON bodies and query strings with the kit: what a hostile client sends in one must come back as a
// 400 problem+json naming what is wrong, never a 500, and never be stored as something else than was sent.
const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
app.post('/things', { schema: { body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string' }, value: {} } } } }, async (request) => request.body);
app.get('/things', { schema: { querystring: { type: 'object', additionalProperties: false, properties: { query: { type: 'string' } } } } }, async (request) => request.query);
beforeAll(() => app.ready());
afterAll(() => app.close());

const send = (payload: string | Buffer, contentType = 'application/json') => app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': contentType } });
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
const nested = (depth: number) => `{"value":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

describe('when a JSON body is not UTF-8', () => {
  it.each([
    ['a byte that starts no character', bytes('{"name":"', [0xff, 0xfe], '"}')],
    ['an overlong encoding of "."', bytes('{"name":"', [0xc0, 0xae], '"}')],
    ['a character cut short', bytes('{"name":"', [0xe2, 0x82], '"}')],
    ['Latin-1 sent as JSON', Buffer.from('{"name":"Thiès"}', 'latin1')],
    ['an encoded surrogate', bytes('{"name":"', [0xed, 0xa0, 0x80], '"}')],
  ])('refuses %s with 400 malformed_body instead of replacing it', async (_label, payload) => {
    const response = await send(payload);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'malformed_body', detail: 'The body is not valid UTF-8.' });
  });

  it('still takes UTF-8 text of every plane, and a leading byte-order mark', async () => {
    const name = 'Thiès — 東京 🌍';
    expect((await send(Buffer.from(JSON.stringify({ name })))).json()).toEqual({ name });
    expect((await send(bytes([0xef, 0xbb, 0xbf], JSON.stringify({ name })))).json()).toEqual({ name });
  });
});

describe('when a JSON body nests deeply', () => {
  it(`takes ${maxJsonBodyDepth} levels`, async () => {
    const response = await send(nested(maxJsonBodyDepth));
    expect(response.statusCode).toBe(200);
  });

  it.each([maxJsonBodyDepth + 1, 200_000])('refuses %d levels with 400 malformed_body (200,000 overflowed the stack of the serializer: a 500)', async (depth) => {
    const response = await send(nested(depth));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'malformed_body', detail: `The body nests arrays and objects more than ${maxJsonBodyDepth} levels deep.` });
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ name: '['.repeat(500) + '\\"{{{' }), 2)).toBe(false);
    expect(nestsDeeperThan('[[["]"]]]', 3)).toBe(false);
    expect(nestsDeeperThan('[[["]"]]]', 2)).toBe(true);
  });
});

describe('when a JSON body holds a lone surrogate', () => {
  it.each([
    ['in a value', '{"name":"a\\ud800b"}'],
    ['at the end of a value', '{"name":"\\udfff"}'],
    ['deep in a document', '{"value":{"list":[1,{"text":"\\ud83d"}]}}'],
    ['in a key', '{"value":{"\\udc00":1}}'],
  ])('refuses it %s with 400 malformed_body', async (_label, payload) => {
    const response = await send(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'malformed_body' });
    expect(response.json().detail).toContain('lone UTF-16 surrogate');
  });

  it('takes an escaped pair, which is one character', async () => {
    expect((await send('{"name":"\\ud83c\\udf0d"}')).json()).toEqual({ name: '🌍' });
  });
});

describe('when a JSON body tries to reach the prototype', () => {
  it.each(['{"value":{"__proto__":{"polluted":true}}}', '{"value":{"constructor":{"prototype":{"polluted":true}}}}'])('refuses %s with 400 malformed_body', async (payload) => {
    const response = await send(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'malformed_body' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('when a body is malformed in other ways', () => {
  it.each([
    ['cut short', '{"name":', 400, 'malformed_body'],
    ['empty', '', 400, 'malformed_body'],
    ['not JSON at all', 'name=x', 400, 'malformed_body'],
  ])('answers a body %s (%j) with %d %s', async (_label, payload, status, code) => {
    const response = await send(payload);
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ code });
  });

  it('answers 415 unsupported_media_type to JSON sent as text/plain', async () => {
    const response = await send('{"name":"x"}', 'text/plain');
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('answers 413 body_too_large past the body limit, before decoding it', async () => {
    const response = await send(Buffer.alloc(2 * 1024 * 1024, 0x20));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'body_too_large' });
  });
});

describe('when a query string is not well-formed percent-encoded UTF-8', () => {
  it.each(['query=%FF', 'query=%C0%AE', 'query=%ED%A0%80', 'query=100%', 'query=%zz', 'qu%E9ry=x'])('refuses ?%s with 400 invalid_input instead of taking it as written', async (query) => {
    const response = await app.inject({ method: 'GET', url: `/things?${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'invalid_input' });
    expect(response.json().detail).toContain('query string');
  });

  it('decodes a well-formed one, spaces and characters of every plane included', async () => {
    const response = await app.inject({ method: 'GET', url: `/things?query=${encodeURIComponent('Thiès 100% 🌍')}+x` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ query: 'Thiès 100% 🌍 x' });
  });
});

describe('when a body comes compressed', () => {
  it.each(['gzip', 'br', 'deflate', 'identity, gzip'])('answers 415 unsupported_media_type to Content-Encoding: %s, saying what is accepted', async (encoding) => {
    const response = await app.inject({ method: 'POST', url: '/things', payload: '{"name":"x"}', headers: { 'content-type': 'application/json', 'content-encoding': encoding } });
    expect(response.statusCode).toBe(415);
    expect(response.headers['accept-encoding']).toBe('identity');
    expect(response.json()).toMatchObject({ code: 'unsupported_media_type', detail: 'Send the body uncompressed: no Content-Encoding is accepted.' });
  });

  it('takes Content-Encoding: identity', async () => {
    const response = await app.inject({ method: 'POST', url: '/things', payload: '{"name":"x"}', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' } });
    expect(response.json()).toEqual({ name: 'x' });
  });
});
