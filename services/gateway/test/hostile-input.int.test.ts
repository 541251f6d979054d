import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { listOperations } from '@hexa/contract';
import { ownerLogin, startStack, type Stack } from './stack.js';

// Every operation that reads a JSON body, reached through the gateway as a client would: the gateway passes
// the bytes on untouched, and the service behind it must refuse each hostile body with a 4xx problem+json
// naming what is wrong — never a 500, never stored as something other than what was sent.
const withBody = listOperations().filter((operation) => !operation.internal && !operation.rawBody && operation.schema.body);

/** What each body is, the status and the code it must get. */
const hostileBodies: { label: string; body: Buffer; contentType?: string; contentEncoding?: string; status: number; code: string; requiredBodiesOnly?: boolean }[] = [
  { label: 'bytes that are not UTF-8', body: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xc0, 0xae]), Buffer.from('"}')]), status: 400, code: 'malformed_body' },
  { label: 'Latin-1 text', body: Buffer.from('{"name":"Thiès"}', 'latin1'), status: 400, code: 'malformed_body' },
  { label: '200,000 nested arrays', body: Buffer.from(`{"value":${'['.repeat(200_000)}${']'.repeat(200_000)}}`), status: 400, code: 'malformed_body' },
  { label: '100,000 nested objects', body: Buffer.from(`{"value":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`), status: 400, code: 'malformed_body' },
  { label: 'a lone surrogate', body: Buffer.from('{"name":"\\ud800"}'), status: 400, code: 'malformed_body' },
  { label: 'a __proto__ key', body: Buffer.from('{"__proto__":{"polluted":true}}'), status: 400, code: 'malformed_body' },
  { label: 'JSON cut short', body: Buffer.from('{"name":"x'), status: 400, code: 'malformed_body' },
  { label: 'a gzip-compressed body', body: gzipSync('{"name":"x"}'), contentEncoding: 'gzip', status: 415, code: 'unsupported_media_type' },
  { label: 'JSON sent as text/plain', body: Buffer.from('{"name":"x"}'), contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
  { label: 'an array instead of an object', body: Buffer.from('[]'), status: 400, code: 'invalid_input' },
  // Where the body may be left out, `null` counts as leaving it out, as Fastify reads it.
  { label: 'null', body: Buffer.from('null'), status: 400, code: 'invalid_input', requiredBodiesOnly: true },
];

let stack: Stack;
let token: string;
let slug: string;
beforeAll(async () => {
  // Sign-in and refresh are rate-limited per address; every request here comes from one.
  stack = await startStack({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '100000', REFRESH_RATE_LIMIT_PER_MINUTE: '100000' } });
  token = await stack.login(ownerLogin.email, ownerLogin.password);
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Hostile Bodies' } });
  expect(created.statusCode).toBe(201);
  slug = created.json<{ slug: string }>().slug;
});
afterAll(() => stack.close());

/** The operation's path with its parameters filled: the real workspace, a fresh id, or a plain name. */
function target(path: string): string {
  return `/api${path.replace(/\{(\w+)\}/g, (_match, name: string) => (name === 'slug' ? slug : name === 'id' || name.endsWith('Id') ? randomUUID() : 'a1'))}`;
}

describe('when a client sends a hostile JSON body', () => {
  it('has operations with JSON bodies to send them to', () => {
    expect(withBody.length).toBeGreaterThan(20);
    expect(withBody.map((operation) => operation.signature)).toEqual(expect.arrayContaining(['POST /workspaces', 'PUT /workspaces/{slug}/configuration/{key}', 'POST /auth/login']));
  });

  for (const hostile of hostileBodies) {
    it(`answers ${hostile.status} ${hostile.code} to ${hostile.label}, on every operation with a ${hostile.requiredBodiesOnly ? 'required ' : ''}JSON body`, async () => {
      const wrong: unknown[] = [];
      for (const operation of withBody.filter((candidate) => candidate.bodyRequired || !hostile.requiredBodiesOnly)) {
        const answer = await stack.call({
          method: operation.method.toUpperCase() as 'POST',
          url: target(operation.path),
          token,
          payload: hostile.body,
          headers: { 'content-type': hostile.contentType ?? 'application/json', ...(hostile.contentEncoding ? { 'content-encoding': hostile.contentEncoding } : {}) },
        });
        const problem = String(answer.headers['content-type']).includes('application/problem+json') ? answer.json<{ code?: string }>() : undefined;
        if (answer.statusCode !== hostile.status || problem?.code !== hostile.code) {
          wrong.push({ operation: operation.signature, status: answer.statusCode, body: answer.body.slice(0, 200) });
        }
      }
      expect(wrong).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  it('leaves no workspace named from a body it refused', async () => {
    const listing = await stack.call({ method: 'GET', url: '/api/workspaces?perPage=100', token });
    expect(listing.json<{ items: { name: string }[] }>().items.map((workspace) => workspace.name)).toEqual(['Hostile Bodies']);
  });
});

// Each operation's first query parameter, given bytes that are not UTF-8 or a stray `%`.
const withQuery = listOperations().filter((operation) => !operation.internal && Object.keys((operation.schema.querystring as { properties?: object }).properties ?? {}).length > 0);

describe('when a client sends a query string that is not well-formed', () => {
  it(`answers 400 invalid_input on each of the ${withQuery.length} operations with query parameters`, async () => {
    expect(withQuery.map((operation) => operation.signature)).toContain('GET /workspaces');
    const wrong: unknown[] = [];
    for (const operation of withQuery) {
      const [parameter] = Object.keys((operation.schema.querystring as { properties: object }).properties);
      for (const value of ['%FF', '%C0%AE', '100%']) {
        const answer = await stack.call({ method: operation.method.toUpperCase() as 'GET', url: `${target(operation.path)}?${parameter}=${value}`, token, payload: operation.schema.body ? {} : undefined });
        if (answer.statusCode !== 400 || answer.json<{ code?: string }>().code !== 'invalid_input') wrong.push({ operation: operation.signature, value, status: answer.statusCode, body: answer.body.slice(0, 160) });
      }
    }
    expect(wrong).toEqual([]);
  });
});
