import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpError, internalTokenHeader } from '@hexa/kit';

/** A forwarded request that hangs this long is answered 503. */
const forwardTimeoutMs = 30_000;

/** Answer headers a service may set for the client; everything else stays inside. */
const forwardedResponseHeaders = ['content-type', 'location', 'retry-after', 'cache-control', 'etag'];

/**
 * Forwards a request to a service with the internal token in place of the
 * caller's credentials, and relays the answer.
 */
export async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  target: { baseUrl: string; path: string; internalToken: string; withCookies: boolean },
): Promise<FastifyReply> {
  const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
  const headers: Record<string, string> = {
    [internalTokenHeader]: target.internalToken,
    'x-request-id': request.id,
    'x-forwarded-for': request.ip,
  };
  const contentType = request.headers['content-type'];
  if (contentType) headers['content-type'] = contentType;
  // Auth operations see the cookie, and whether a browser sent the request (it then keeps its refresh token only in the cookie).
  if (target.withCookies) {
    for (const name of ['cookie', 'origin', 'sec-fetch-site']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
  }
  const body = Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : undefined;

  let response: Response;
  try {
    response = await fetch(`${target.baseUrl}${target.path}${search}`, {
      method: request.method,
      headers,
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(forwardTimeoutMs),
    });
  } catch (error) {
    request.log.warn({ err: error, target: target.baseUrl }, 'service unreachable');
    throw httpError('service_unavailable', 'A service behind the gateway is unavailable; try again shortly.');
  }
  for (const name of forwardedResponseHeaders) {
    const value = response.headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (target.withCookies && cookies.length > 0) reply.header('set-cookie', cookies);
  reply.code(response.status);
  const payload = Buffer.from(await response.arrayBuffer());
  return reply.serializer((value: unknown) => value as string).send(payload.length > 0 ? payload : undefined);
}
