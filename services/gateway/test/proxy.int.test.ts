import { randomBytes, createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { getOperation } from '@hexa/contract';
import { tokensOf } from '@hexa/testing';
import { loadGatewayConfig } from '../src/config.js';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { rawRequest } from './raw-http.js';
import { answerDigest, refusingUrl, startHttpUpstream, startRawUpstream, type HttpUpstream, type RawUpstream } from './upstreams.js';

// The gateway in front of a small real server standing where the workspaces service stands (membership
// stays the real one, which resolves the caller's access), reached over real sockets.

let stack: Stack;
let owner: string;
let upstream: HttpUpstream;
let gateway: string;

async function listening(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  stack = await startStack();
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
  upstream = await startHttpUpstream();
  gateway = await listening(await stack.startGateway({ env: { WORKSPACES_URL: upstream.url, UPSTREAM_HEADERS_TIMEOUT_MS: '500' } }));
});
afterAll(async () => {
  await stack.close();
  await upstream.close();
});
afterEach(() => {
  upstream.handle = answerDigest;
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Reads an answer to its end. */
function bodyOf(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => resolve(text));
    response.on('error', reject);
  });
}

describe('when a client sends credentials and headers the service has no use for', () => {
  it('passes only the headers that matter, its own internal token, the client address and the query string exactly as sent', async () => {
    const before = upstream.arrivals.length;
    const query = '?b=2&a=%20x&a=y&empty=&odd=%2F..%2F&plus=a+b';
    const response = await fetch(`${gateway}/api/workspaces/some-place${query}`, {
      headers: {
        authorization: `Bearer ${owner}`,
        cookie: 'hexa_refresh=not-for-workspaces',
        accept: 'application/json',
        'if-none-match': '"v1"',
        'if-match': '"v2"',
        'idempotency-key': 'key-123',
        range: 'bytes=0-10',
        'x-request-id': 'client-request-0001',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=198.51.100.1',
        'x-hexa-internal': 'forged',
        'x-custom': 'nope',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('client-request-0001');

    expect(upstream.arrivals.length).toBe(before + 1);
    const arrival = upstream.arrivals.at(-1)!;
    expect(arrival.method).toBe('GET');
    expect(arrival.url).toBe(`/workspaces/some-place${query}`);
    const { host, connection, ...headers } = arrival.headers;
    expect(host).toBe(new URL(upstream.url).host);
    expect(connection ?? 'keep-alive').toBe('keep-alive');
    expect(Object.keys(headers).sort()).toEqual(['accept', 'idempotency-key', 'if-match', 'if-none-match', 'range', 'x-forwarded-for', 'x-hexa-internal', 'x-request-id']);
    expect(headers).toMatchObject({
      accept: 'application/json',
      'if-none-match': '"v1"',
      'if-match': '"v2"',
      'idempotency-key': 'key-123',
      range: 'bytes=0-10',
      'x-request-id': 'client-request-0001',
      // Overwritten, not appended to: the gateway trusts no proxy by default.
      'x-forwarded-for': '127.0.0.1',
    });
    // The gateway's own token, minted for this one operation and naming the verified user.
    const caller = tokensOf('workspaces').verify(headers['x-hexa-internal'] as string, getOperation('getWorkspace'));
    expect(caller).toMatchObject({ kind: 'user', organizationRole: 'OWNER', workspace: { slug: 'some-place', role: 'ADMIN' } });
  });

  it('passes the cookie to the auth operations only, and never the Authorization header (real services)', async () => {
    const before = stack.received.length;
    await stack.call({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: 'hexa_refresh=abc', authorization: `Bearer ${owner}` } });
    await stack.call({ method: 'GET', url: '/api/countries', headers: { cookie: 'hexa_refresh=abc', authorization: `Bearer ${owner}` } });
    const reached = stack.received.slice(before).filter((request) => !request.url.startsWith('/internal/'));
    expect(reached.map(({ service, url, headers }) => ({ service, url, cookie: headers.cookie, authorization: headers.authorization }))).toEqual([
      { service: 'membership', url: '/auth/refresh', cookie: 'hexa_refresh=abc', authorization: undefined },
      { service: 'workspaces', url: '/countries', cookie: undefined, authorization: undefined },
    ]);
  });
});

describe('when a service answers with headers meant to stay inside', () => {
  it('relays only the headers a client may see, and no cookie from an operation that is not an auth one', async () => {
    upstream.handle = (_request, response) => {
      response
        .writeHead(201, {
          'content-type': 'application/json',
          'content-length': '11',
          location: '/api/workspaces/new-place',
          'retry-after': '3',
          'cache-control': 'no-store',
          etag: '"e1"',
          'content-range': 'bytes 0-1/2',
          'accept-ranges': 'bytes',
          'content-disposition': 'attachment; filename="a.csv"',
          'set-cookie': 'sid=leak; HttpOnly',
          server: 'workspaces/1.0',
          'x-powered-by': 'node',
          'x-debug-sql': 'select secret',
          'access-control-allow-origin': '*',
        })
        .end('{"ok":true}');
    };
    const response = await fetch(`${gateway}/api/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('{"ok":true}');
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'application/json',
      'content-length': '11',
      location: '/api/workspaces/new-place',
      'retry-after': '3',
      'cache-control': 'no-store',
      etag: '"e1"',
      'content-range': 'bytes 0-1/2',
      'accept-ranges': 'bytes',
      'content-disposition': 'attachment; filename="a.csv"',
    });
    for (const name of ['set-cookie', 'server', 'x-powered-by', 'x-debug-sql', 'access-control-allow-origin']) expect(response.headers.get(name)).toBeNull();
  });

  it('relays the Set-Cookie of an auth operation (real membership)', async () => {
    const login = await stack.call({ method: 'POST', url: '/api/auth/login', payload: ownerLogin });
    expect(String(login.headers['set-cookie'])).toMatch(/^hexa_refresh=/);
  });
});

describe('when a client uploads a large body', () => {
  it('streams it: the service reads the first chunk before the client has sent the rest', async () => {
    let firstChunk!: () => void;
    const firstChunkArrived = new Promise<void>((resolve) => (firstChunk = resolve));
    upstream.handle = (request, response) => {
      request.once('data', () => firstChunk());
      answerDigest(request, response);
    };
    const chunks = Array.from({ length: 32 }, () => randomBytes(512 * 1024)); // 16 MiB, far above any buffered limit
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(`${gateway}/api/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/octet-stream' } }, resolve);
      request.on('error', reject);
      request.write(chunks[0]);
      // Nothing more is sent until the service has the first chunk: a gateway that buffers never gets there.
      void firstChunkArrived.then(() => {
        for (const chunk of chunks.slice(1)) request.write(chunk);
        request.end();
      });
    });
    const response = await answer;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(await bodyOf(response))).toEqual({ bytes: 16 * 1024 * 1024, sha256: sha256(Buffer.concat(chunks)) });
    expect(upstream.arrivals.at(-1)!.headers['transfer-encoding']).toBe('chunked');
  });

  it('passes a body with a Content-Length through untouched', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const response = await fetch(`${gateway}/api/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/octet-stream' }, body });
    expect(await response.json()).toEqual({ bytes: body.length, sha256: sha256(body) });
    expect(upstream.arrivals.at(-1)!.headers['content-length']).toBe(String(body.length));
  });

  it('answers 413 body_too_large at once to an absurd Content-Length, forwarding nothing', async () => {
    const before = upstream.arrivals.length;
    const port = Number(new URL(gateway).port);
    const answer = await rawRequest(port, 'POST', '/api/workspaces', { authorization: `Bearer ${owner}`, 'content-type': 'application/json', 'content-length': String(10 ** 13) });
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'body_too_large' });
    expect(upstream.arrivals.length).toBe(before);
  });
});

describe('when a service streams server-sent events', () => {
  it('relays each event as it comes, for longer than the headers timeout', async () => {
    let clientHasFirst!: () => void;
    const firstSeen = new Promise<void>((resolve) => (clientHasFirst = resolve));
    upstream.handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write('data: 1\n\n');
      // The rest is sent only once the client has the first event: a gateway that buffers never gets there.
      void firstSeen.then(async () => {
        for (let event = 2; event <= 6; event += 1) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          response.write(`data: ${event}\n\n`);
        }
        response.end();
      });
    };
    const startedAt = Date.now();
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest(`${gateway}/api/workspaces/run-logs`, { headers: { authorization: `Bearer ${owner}`, accept: 'text/event-stream' } }, resolve).on('error', reject).end(),
    );
    expect(response.headers['content-type']).toBe('text/event-stream');
    let text = '';
    response.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      response.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('data: 1\n\n')) clientHasFirst();
      });
      response.on('end', resolve);
      response.on('error', reject);
    });
    expect(text).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: 5\n\ndata: 6\n\n');
    // The stream lasted twice the 500 ms the service has to start answering, and was not cut.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
  });
});

describe('when a stream lasts longer than every timeout of the gateway', () => {
  // The gateway's timeouts scaled down: a service has 500 ms to start answering, a body may stay silent
  // 1 s. Each stream below flows for 3 s: far past both, as a run's logs flow far past the old 30 s cap.
  const tick = 250;
  const ticks = 12;
  let streaming: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    streaming = await stack.startGateway({ env: { WORKSPACES_URL: upstream.url, UPSTREAM_HEADERS_TIMEOUT_MS: '500', UPSTREAM_BODY_IDLE_TIMEOUT_MS: '1000' } });
    url = await listening(streaming);
    // The caller's access is resolved once, before the clock matters (an idle client socket is cut after 1 s too).
    for (const path of ['/api/countries', '/api/workspaces/run-logs']) {
      expect((await streaming.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${owner}` } })).statusCode).toBe(200);
    }
  });
  const pause = () => new Promise((resolve) => setTimeout(resolve, tick));

  it('puts no cap on a whole request (the kit\'s default is 30 s)', () => {
    expect(streaming.server.requestTimeout).toBe(0);
  });

  it('relays server-sent events for three times the idle timeout, every one of them', async () => {
    upstream.handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      void (async () => {
        for (let event = 1; event <= ticks; event += 1) {
          response.write(`data: ${event}\n\n`);
          await pause();
        }
        response.end();
      })();
    };
    const startedAt = Date.now();
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest(`${url}/api/workspaces/run-logs`, { headers: { authorization: `Bearer ${owner}`, accept: 'text/event-stream' } }, resolve).on('error', reject).end(),
    );
    expect(response.statusCode).toBe(200);
    const text = await bodyOf(response);
    expect(response.complete).toBe(true);
    expect(text).toBe(Array.from({ length: ticks }, (_, index) => `data: ${index + 1}\n\n`).join(''));
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(ticks * tick - 50);
  });

  it('streams an upload that trickles in for three times the idle timeout to the service whole', async () => {
    const chunks = Array.from({ length: ticks }, () => randomBytes(64 * 1024));
    const startedAt = Date.now();
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(`${url}/api/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/octet-stream' } }, resolve);
      request.on('error', reject);
      void (async () => {
        for (const chunk of chunks) {
          request.write(chunk);
          await pause();
        }
        request.end();
      })();
    });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(await bodyOf(response))).toEqual({ bytes: ticks * 64 * 1024, sha256: sha256(Buffer.concat(chunks)) });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(ticks * tick - 50);
  });

  it('still cuts a stream that stays silent longer than the idle timeout, so the client cannot take it for whole', async () => {
    upstream.handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 1\n\n');
      setTimeout(() => response.end('data: 2\n\n'), 2500);
    };
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest(`${url}/api/workspaces/run-logs`, { headers: { authorization: `Bearer ${owner}`, accept: 'text/event-stream' } }, resolve).on('error', reject).end(),
    );
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    await new Promise((resolve) => response.on('close', resolve));
    expect(text).toBe('data: 1\n\n');
    expect(response.complete).toBe(false);
  });
});

describe('when a service misbehaves', () => {
  let raw: RawUpstream;
  let misbehaving: FastifyInstance;
  let down: FastifyInstance;
  const call = (app: FastifyInstance) => app.inject({ method: 'GET', url: '/api/countries', headers: { authorization: `Bearer ${owner}` } });

  beforeAll(async () => {
    raw = await startRawUpstream();
    misbehaving = await stack.startGateway({ env: { WORKSPACES_URL: raw.url, UPSTREAM_HEADERS_TIMEOUT_MS: '300' } });
    down = await stack.startGateway({ env: { WORKSPACES_URL: await refusingUrl() } });
  });
  afterAll(() => raw.close());

  function expectProblem(response: Awaited<ReturnType<typeof call>>, status: number, code: string): void {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status, code, requestId: expect.any(String) });
  }

  it('answers 503 service_unavailable when the service refuses connections', async () => {
    expectProblem(await call(down), 503, 'service_unavailable');
  });

  it('answers 503 service_unavailable when the service does not answer within the configured time', async () => {
    raw.handle = () => undefined; // keeps the connection open and says nothing
    const startedAt = Date.now();
    expectProblem(await call(misbehaving), 503, 'service_unavailable');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('answers 502 bad_gateway when the service hangs up without answering', async () => {
    raw.handle = (socket) => socket.destroy();
    expectProblem(await call(misbehaving), 502, 'bad_gateway');
  });

  it('answers 502 bad_gateway when the service answers something that is not HTTP', async () => {
    raw.handle = (socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\ngarbage');
    expectProblem(await call(misbehaving), 502, 'bad_gateway');
  });

  it('answers 502 bad_gateway, with no header of the broken answer, when the status does not exist', async () => {
    raw.handle = (socket) => socket.end('HTTP/1.1 999 Nope\r\nContent-Length: 5\r\nETag: "broken"\r\n\r\nhello');
    const response = await call(misbehaving);
    expectProblem(response, 502, 'bad_gateway');
    expect(response.headers.etag).toBeUndefined();
  });

  it('cuts the answer off when the service dies in the middle of it, so the client cannot take it for whole, and keeps serving', async () => {
    raw.handle = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"items": [');
      setTimeout(() => socket.destroy(), 50);
    };
    const url = await listening(misbehaving);
    const response = await fetch(`${url}/api/countries`, { headers: { authorization: `Bearer ${owner}` } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();

    raw.handle = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]');
    const next = await fetch(`${url}/api/countries`, { headers: { authorization: `Bearer ${owner}` } });
    expect([next.status, await next.text()]).toEqual([200, '[]']);
  });

  it('relays a service\'s own 503 once, with its Retry-After, without retrying', async () => {
    upstream.handle = (_request, response) => {
      response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '7' }).end('{"status":503,"code":"service_unavailable"}');
    };
    const before = upstream.arrivals.length;
    const response = await fetch(`${gateway}/api/countries`, { headers: { authorization: `Bearer ${owner}` } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toMatchObject({ code: 'service_unavailable' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.arrivals.length).toBe(before + 1);
  });
});

describe('when the gateway stands behind a proxy (HEXA_TRUST_PROXY)', () => {
  /** The address membership receives as the client's, for a request from this machine that claims `forwardedFor`. */
  async function clientAddressSeen(trustProxy: string | undefined, forwardedFor: string): Promise<string | string[] | undefined> {
    const url = await listening(await stack.startGateway({ env: trustProxy === undefined ? {} : { HEXA_TRUST_PROXY: trustProxy } }));
    const before = stack.received.length;
    await fetch(`${url}/api/auth/refresh`, { method: 'POST', headers: { 'x-forwarded-for': forwardedFor } });
    const reached = stack.received.slice(before).filter((request) => request.url === '/auth/refresh');
    expect(reached).toHaveLength(1);
    return reached[0]!.headers['x-forwarded-for'];
  }

  it('by default trusts nobody: the socket address replaces whatever the client claims', async () => {
    expect(await clientAddressSeen(undefined, '203.0.113.7')).toBe('127.0.0.1');
    expect(await clientAddressSeen('false', '203.0.113.7, 198.51.100.2')).toBe('127.0.0.1');
  });

  it('ignores X-Forwarded-For from an address outside the trusted list', async () => {
    expect(await clientAddressSeen('10.0.0.0/8', '203.0.113.7')).toBe('127.0.0.1');
  });

  it('takes the client from X-Forwarded-For when the proxy is trusted, up to the first untrusted hop', async () => {
    expect(await clientAddressSeen('127.0.0.1, 10.0.0.0/8', '203.0.113.7')).toBe('203.0.113.7');
    expect(await clientAddressSeen('loopback', '203.0.113.7, 198.51.100.2')).toBe('198.51.100.2');
    expect(await clientAddressSeen('true', '203.0.113.7, 198.51.100.2')).toBe('203.0.113.7');
  });

  it('refuses a setting that is neither a boolean nor addresses, naming what is wrong', () => {
    expect(() => loadGatewayConfig({ ...process.env, HEXA_JWT_PUBLIC_KEY: stack.keys.publicKey, HEXA_TRUST_PROXY: '10.0.0.0/33, the-balancer' })).toThrow(
      /HEXA_TRUST_PROXY=.*not "10\.0\.0\.0\/33", "the-balancer"/,
    );
  });
});
