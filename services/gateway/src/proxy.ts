import type { IncomingHttpHeaders } from 'node:http';
import type { IncomingHttpHeaders as Http2IncomingHttpHeaders } from 'node:http2';
import replyFrom, { type FastifyReplyFromOptions } from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accessChangedHeader, httpError, internalTokenHeader, type AppError } from '@hexa/kit';

/** Request headers a service needs from the client; everything else (Authorization first) stays at the door. */
const forwardedRequestHeaders = ['content-type', 'content-length', 'accept', 'if-match', 'if-none-match', 'idempotency-key', 'range'];

/** Answer headers a service may set for the client; everything else stays inside. */
const forwardedResponseHeaders = [
  'content-type',
  'content-length',
  'location',
  'retry-after',
  'cache-control',
  'etag',
  'content-range',
  'accept-ranges',
  'content-disposition',
  'x-request-id',
  'idempotent-replayed',
];

/**
 * Connections kept open to each service, per gateway replica: enough for
 * long-lived streams (run logs) beside ordinary calls, few enough that a
 * service's replica count, not the gateway, decides its load.
 */
const connectionsPerService = 128;
/** An idle connection to a service is reused this long: below the services' own 72 s keep-alive, so the gateway never writes on a socket the service is closing. */
const keepAliveMs = 60_000;
/** A service that does not accept a connection this quickly is down. */
const connectTimeoutMs = 5_000;

export interface UpstreamTimeouts {
  /** How long a service may take to send its status and headers. */
  headersTimeoutMs: number;
  /** How long a body (either way) may stay silent; 0 never cuts. Not a cap on the whole body. */
  bodyIdleTimeoutMs: number;
}

export type Forward = (request: FastifyRequest, reply: FastifyReply, target: ForwardTarget) => FastifyReply;

/**
 * Registers `@fastify/reply-from` in `scope` for one service: its own undici
 * pool of kept-alive connections, streaming both ways, no retries (a service
 * that answers 503 is relayed as it is; a POST must never be sent twice).
 * Routes added to the same scope forward to that service with the function
 * returned.
 *
 * @example
 * await app.register(async (scope) => {
 *   const forwardTo = await registerUpstream(scope, { service: 'workspaces', baseUrl, timeouts });
 *   scope.get('/api/countries', (request, reply) => forwardTo(request, reply, { path: '/countries', internalToken, withCookies: false, onAccessChanged: forget }));
 * });
 */
export async function registerUpstream(scope: FastifyInstance, upstream: { service: string; baseUrl: string; timeouts: UpstreamTimeouts }): Promise<Forward> {
  const { baseUrl, timeouts } = upstream;
  const options: FastifyReplyFromOptions = {
    base: baseUrl,
    undici: {
      connections: connectionsPerService,
      // One request per connection at a time: a slow stream must not hold up the requests queued behind it.
      pipelining: 1,
      keepAliveTimeout: keepAliveMs,
      keepAliveMaxTimeout: keepAliveMs,
      connect: { timeout: connectTimeoutMs },
      headersTimeout: timeouts.headersTimeoutMs,
      bodyTimeout: timeouts.bodyIdleTimeoutMs,
    },
    // The pool is the gateway's own: close its sockets when the gateway closes.
    destroyAgent: true,
    // The gateway logs each request once, itself, with the query string redacted.
    disableRequestLogging: true,
  };
  await scope.register(replyFrom, options);
  // A base URL may have a path (`http://host/membership`); every upstream path starts with it.
  const prefixed = { service: upstream.service, prefix: new URL(baseUrl).pathname.replace(/\/+$/, '') };
  return (request, reply, target) => forward(request, reply, prefixed, target);
}

/** What a failure to reach or read a service means for the client: 503 while it is down or slow, 502 when it misbehaves. */
function upstreamFailure(error: Error): AppError {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = (cause as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return httpError('service_unavailable', 'A service behind the gateway is unavailable; try again shortly.');
    default:
      // A socket closed before the answer, an answer that is not HTTP, a status that does not exist.
      return httpError('bad_gateway', 'A service behind the gateway answered something unreadable or hung up; try again.');
  }
}

export interface ForwardTarget {
  /** The operation's path with its parameters filled and encoded (`fillPath`). */
  path: string;
  internalToken: string;
  /** Cookies go to the auth operations, and only their Set-Cookie comes back. */
  withCookies: boolean;
  /** Called for each user an answer says had their access changed (`hexa-access-changed`), before the answer is relayed. */
  onAccessChanged: (userId: string) => void;
}

/**
 * Forwards a request to a service — the raw body streamed as the client
 * sends it, the query string as sent — with the internal token in place of
 * the caller's credentials, and streams the answer back. Only the headers
 * listed above pass, either way. Reply-from itself refuses a path that would
 * climb out of the service's base (`..`, decoded) with a 400.
 */
function forward(request: FastifyRequest, reply: FastifyReply, upstream: { service: string; prefix: string }, target: ForwardTarget): FastifyReply {
  return reply.from(`${upstream.prefix}${target.path}`, {
    // Never retried: a 503 from a service carries its own Retry-After for the client, and replaying a body is impossible.
    retryDelay: () => null,
    rewriteRequestHeaders: (_request, prepared) => {
      const headers: IncomingHttpHeaders = { host: prepared.host as string };
      for (const name of forwardedRequestHeaders) {
        const value = request.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      // Auth operations see the cookie, and whether a browser sent the request (it then keeps its refresh token only in the cookie).
      if (target.withCookies) {
        for (const name of ['cookie', 'origin', 'sec-fetch-site'] as const) {
          const value = request.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
      }
      headers[internalTokenHeader] = target.internalToken;
      headers['x-request-id'] = request.id;
      // Overwritten, never appended to: `request.ip` is the client as far as the trusted proxies (HEXA_TRUST_PROXY) say.
      headers['x-forwarded-for'] = request.ip;
      return headers;
    },
    rewriteHeaders: (received) => {
      const changed = received[accessChangedHeader];
      if (typeof changed === 'string') for (const userId of changed.split(',')) if (userId) target.onAccessChanged(userId);
      const headers: Http2IncomingHttpHeaders = {};
      for (const name of forwardedResponseHeaders) {
        const value = received[name];
        if (value !== undefined) headers[name] = value;
      }
      if (target.withCookies && received['set-cookie'] !== undefined) headers['set-cookie'] = received['set-cookie'];
      return headers;
    },
    onResponse: (_request, sending, response) => {
      // An answer with an impossible status was already refused (502) by onError; drop its body.
      if (sending.sent) {
        response.stream.destroy();
        return;
      }
      void sending.send(response.stream);
    },
    onError: (failing, { error }) => {
      request.log.warn({ err: error, service: upstream.service }, 'service failed');
      // Headers of an answer that turned out unusable may already be copied; the problem has its own.
      for (const name of [...forwardedResponseHeaders, 'set-cookie']) failing.removeHeader(name);
      void failing.send(upstreamFailure(error));
    },
  });
}
