import type { AddressInfo } from 'node:net';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { rawRequest, type RawAnswer } from './raw-http.js';

// What Node's HTTP parser and Fastify's router refuse before any route runs: their answers must be
// problem+json like every other error. `inject` skips the HTTP parser, so these go over a real socket.

let stack: Stack;
let port: number;
let authorization: string;
beforeAll(async () => {
  stack = await startStack();
  await stack.gateway.listen({ host: '127.0.0.1', port: 0 });
  port = (stack.gateway.server.address() as AddressInfo).port;
  authorization = `Bearer ${await stack.login(ownerLogin.email, ownerLogin.password)}`;
});
afterAll(() => stack.close());

function expectProblem(answer: RawAnswer, status: number, code: string): void {
  expect({ status: answer.status, type: answer.headers['content-type'] }).toEqual({ status, type: expect.stringContaining('application/problem+json') });
  expect(JSON.parse(answer.body)).toMatchObject({ status, code, title: expect.any(String) });
}

describe('when a client sends what the framework refuses before any route runs', () => {
  it('answers 431 request_headers_too_large as problem+json to a 100 kB query string', async () => {
    const before = stack.received.length;
    const answer = await rawRequest(port, 'GET', `/api/workspaces?query=${'q'.repeat(100_000)}`, { authorization });
    expectProblem(answer, 431, 'request_headers_too_large');
    expect(stack.received.slice(before)).toEqual([]);
  });

  it('answers 414 uri_too_long as problem+json to a 10,000-character slug', async () => {
    const before = stack.received.length;
    const answer = await rawRequest(port, 'GET', `/api/workspaces/${'a'.repeat(10_000)}`, { authorization });
    expectProblem(answer, 414, 'uri_too_long');
    expect(stack.received.slice(before)).toEqual([]);
  });

  it('answers 400 invalid_input as problem+json to a malformed percent-encoding', async () => {
    const before = stack.received.length;
    const answer = await rawRequest(port, 'GET', '/api/workspaces/%E0%A4%A', { authorization });
    expectProblem(answer, 400, 'invalid_input');
    expect(stack.received.slice(before)).toEqual([]);
  });

  it('answers 400 invalid_input as problem+json to a request line that is not HTTP', async () => {
    const answer = await rawRequest(port, 'GET', '/api/workspaces /x', { authorization });
    expectProblem(answer, 400, 'invalid_input');
  });

  it('answers 404 route_not_found as problem+json to a path no operation has, with fetch as a client sends it', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/no-such-thing`, { headers: { authorization } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 404, code: 'route_not_found' });
  });
});
