import type { AddressInfo } from 'node:net';
import { listOperations } from '@hexa/contract';
import { ownerLogin, startStack, type Received, type Stack } from './stack.js';
import { rawRequest } from './raw-http.js';

// Each form is put, exactly as written, in place of one path parameter and sent over a raw socket
// (`curl --path-as-is`): no client library normalises `..` or a backslash on the way.
const traversalForms = [
  '..',
  '.',
  '%2E%2E',
  '%2e%2e',
  '.%2E',
  '%2e.',
  '%252E%252E',
  '%252e%252e%252fmetrics',
  '..\\metrics',
  '..\\..\\metrics',
  '..%5Cmetrics',
  '%5C..%5Cmetrics',
  '..%5c..%5creadyz',
  '%2e./metrics',
  '..%2Fmetrics',
  '..%2f..%2fmetrics',
  '%2E%2E%2F%2E%2E%2Freadyz',
  '..%2F..%2Finternal%2Faccess%2Fsomeone',
  '..%252Fmetrics',
  '../metrics',
  '../../metrics',
  '..;/metrics',
  '%00',
  'x%00',
  '..%00',
  '%00..%2Fmetrics',
  '%C0%AE%C0%AE',
  '%EF%BC%8E%EF%BC%8E',
  '%2F',
  '%2F%2Fmetrics',
  '%3F%2E%2E',
  '%23..',
];

/** Paths of the services that no request through the gateway may ever reach. */
const forbidden = /^\/(?:$|\?|metrics|readyz|healthz|internal\/)/;

/** Operations the gateway serves that take path parameters: today `GET /workspaces/{slug}`, tomorrow members, files, runs… */
const addressed = listOperations().filter((operation) => operation.service !== 'gateway' && !operation.internal && operation.schema.params);

let stack: Stack;
let port: number;
let authorization: string;
let ownerId: string;
beforeAll(async () => {
  stack = await startStack();
  await stack.gateway.listen({ host: '127.0.0.1', port: 0 });
  port = (stack.gateway.server.address() as AddressInfo).port;
  // The organization owner acts as Admin of every workspace: nothing but the path can stop the request.
  const token = await stack.login(ownerLogin.email, ownerLogin.password);
  authorization = `Bearer ${token}`;
  ownerId = (await stack.call({ method: 'GET', url: '/api/me', token })).json<{ id: string }>().id;
});
afterAll(() => stack.close());

/**
 * What the gateway itself asks of membership to authorise the owner, and what a service asks of the
 * workspaces service about the workspace the client addressed (`a1`, with its own service token: the
 * files service looks up the workspace's id): neither is the client's request.
 */
const isAccessLookup = (request: Received) =>
  (request.service === 'membership' && request.method === 'GET' && request.route === '/internal/access/:userId' && request.url.startsWith(`/internal/access/${ownerId}`)) ||
  (request.service === 'workspaces' && request.method === 'GET' && request.route === '/internal/workspaces/:slug' && request.url === '/internal/workspaces/a1');

describe('when a client sends a path that climbs out of a path parameter', () => {
  it('has operations with path parameters to attack', () => {
    expect(addressed.map((operation) => operation.signature)).toContain('GET /workspaces/{slug}');
  });

  for (const operation of addressed) {
    const parameters = Object.keys((operation.schema.params as { properties: Record<string, unknown> }).properties);
    for (const parameter of parameters) {
      it(`answers 400 or 404 problem+json to every traversal form in {${parameter}} of ${operation.signature}, and only ${operation.signature} can be reached`, async () => {
        const before = stack.received.length;
        const answers: { target: string; status: number; code: unknown; type: string | undefined }[] = [];
        for (const form of traversalForms) {
          const path = operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => (name === parameter ? form : 'a1'));
          const target = `/api${path}`;
          const answer = await rawRequest(port, operation.method.toUpperCase(), target, { authorization, 'content-length': '0' });
          let code: unknown;
          try {
            code = (JSON.parse(answer.body) as { code?: unknown }).code;
          } catch {
            code = `not JSON: ${answer.body.slice(0, 80)}`;
          }
          answers.push({ target, status: answer.status, code, type: answer.headers['content-type'] });
        }
        const refusals = ['invalid_input', 'route_not_found', 'workspace_not_found', 'not_found', 'uri_too_long'];
        const wrong = answers.filter(
          (answer) => ![400, 404, 414].includes(answer.status) || !refusals.includes(String(answer.code)) || !answer.type?.includes('application/problem+json'),
        );
        expect(wrong).toEqual([]);

        const reached = stack.received.slice(before);
        expect(reached.filter((request) => forbidden.test(request.url) && !isAccessLookup(request))).toEqual([]);
        const routeOfOperation = operation.routePath;
        expect(reached.filter((request) => !isAccessLookup(request) && !(request.service === operation.service && request.route === routeOfOperation))).toEqual([]);
      });
    }
  }

  it('still forwards a well-formed slug to the addressed operation alone (the recording sees it)', async () => {
    const created = await stack.call({ method: 'POST', url: '/api/workspaces', headers: { authorization }, payload: { name: 'Traversal Target' } });
    expect(created.statusCode).toBe(201);
    const before = stack.received.length;
    const answer = await rawRequest(port, 'GET', '/api/workspaces/traversal-target', { authorization });
    expect(answer.status).toBe(200);
    const reached = stack.received.slice(before).filter((request) => !isAccessLookup(request));
    expect(reached.map(({ service, method, url, route }) => ({ service, method, url, route }))).toEqual([
      { service: 'workspaces', method: 'GET', url: '/workspaces/traversal-target', route: '/workspaces/:slug' },
    ]);
  });
});

// Forms that stay inside the slug's one segment but decode to something that is not a slug: the
// gateway's own check of the path parameters (the contract's schema) must refuse them before it
// authenticates, resolves access or forwards anything.
const malformedSlugs = [
  '..',
  '.',
  '%2E%2E',
  '%2e.',
  '%252E%252E',
  '..\\metrics',
  '..%5Cmetrics',
  '%5C..%5Cmetrics',
  '..%2Fmetrics',
  '%2E%2E%2F%2E%2E%2Freadyz',
  '..%2F..%2Finternal%2Faccess%2Fsomeone',
  '..;',
  '%00',
  'x%00',
  '%EF%BC%8E%EF%BC%8E',
  'Traversal-Target',
  'a%20b',
];

describe('when a client sends a malformed slug', () => {
  const slugOperations = addressed.filter((operation) => operation.path.includes('{slug}'));

  it(`answers 400 invalid_input naming the slug at the gateway, for each of ${slugOperations.length} operations, and no service hears of it, not even to look up access`, async () => {
    expect(slugOperations.length).toBeGreaterThan(10);
    const before = stack.received.length;
    const wrong: unknown[] = [];
    for (const operation of slugOperations) {
      for (const form of malformedSlugs) {
        const target = `/api${operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => (name === 'slug' ? form : 'a1'))}`;
        const answer = await rawRequest(port, operation.method.toUpperCase(), target, { authorization, 'content-length': '0' });
        let problem: { code?: unknown; errors?: { field?: unknown }[] } = {};
        try {
          problem = JSON.parse(answer.body) as typeof problem;
        } catch {
          // Not JSON: reported below.
        }
        const fields = (problem.errors ?? []).map((error) => error.field);
        if (answer.status !== 400 || problem.code !== 'invalid_input' || !fields.includes('params/slug') || !answer.headers['content-type']?.includes('application/problem+json')) {
          wrong.push({ target, status: answer.status, body: answer.body.slice(0, 200) });
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(stack.received.slice(before).map(({ service, method, url }) => `${service} ${method} ${url}`)).toEqual([]);
  });
});
