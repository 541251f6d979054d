import type { IncomingHttpHeaders } from 'node:http';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import type { OperationHandlers, OperationResult } from '@hexa/kit';
import type { AuthService, IssuedSession } from './auth-service.js';

export const refreshCookieName = 'hexa_refresh';

type AuthHandlers = Pick<OperationHandlers<'membership'>, 'login' | 'refreshSession' | 'logout'>;

/**
 * Where a new refresh token travels. A browser keeps it only in the httpOnly
 * cookie, out of reach of scripts; a client that is not a browser may ask for
 * it in the body. Every browser sends `Origin` or `Sec-Fetch-Site` with a
 * POST, and a script in a page cannot remove them, so a page cannot pass for
 * a non-browser client.
 */
export function refreshTokenPlacement(headers: IncomingHttpHeaders, asked: 'cookie' | 'body'): 'cookie' | 'body' {
  const fromBrowser = headers.origin !== undefined || headers['sec-fetch-site'] !== undefined;
  return asked === 'body' && !fromBrowser ? 'body' : 'cookie';
}

/** The refresh cookie: httpOnly, SameSite=Strict, Secure behind https, only for the auth endpoints. */
export function refreshCookieOptions(publicUrl: string): CookieSerializeOptions {
  const url = new URL(publicUrl);
  return {
    httpOnly: true,
    sameSite: 'strict',
    secure: url.protocol === 'https:',
    // The gateway serves the auth operations under `/api`, below the public URL's own path.
    path: `${url.pathname.replace(/\/$/, '')}/api/auth`,
  };
}

/**
 * Hands a new session to the client: the refresh token in the httpOnly cookie,
 * or in the body for a client that is not a browser and asked for it. Sign-in
 * and registration answer the same way.
 */
export function sessionDelivery(publicUrl: string) {
  const cookie = refreshCookieOptions(publicUrl);
  return (reply: FastifyReply, issued: IssuedSession, placement: 'cookie' | 'body'): { body: OperationResult<'login'>['body']; headers: Record<string, string> } => {
    const headers = { 'cache-control': 'no-store' };
    if (placement === 'body') return { body: { ...issued.session, refreshToken: issued.refreshToken }, headers };
    const maxAge = Math.max(0, Math.floor((issued.refreshTokenExpiresAt.getTime() - Date.now()) / 1000));
    reply.setCookie(refreshCookieName, issued.refreshToken, { ...cookie, maxAge });
    return { body: issued.session, headers };
  };
}

export function authHandlers(deps: { auth: AuthService; publicUrl: string }): AuthHandlers {
  const cookie = refreshCookieOptions(deps.publicUrl);
  const delivery = sessionDelivery(deps.publicUrl);
  const deliver = (reply: FastifyReply, issued: IssuedSession, placement: 'cookie' | 'body'): OperationResult<'login'> => ({ status: 200, ...delivery(reply, issued, placement) });

  return {
    login: async ({ body, request, reply }) => {
      const issued = await deps.auth.login({ email: body.email, password: body.password });
      return deliver(reply, issued, refreshTokenPlacement(request.headers, body.refreshTokenIn ?? 'cookie'));
    },
    // The new token goes back the way the old one came: a client that keeps it in the body gets it there.
    refreshSession: async ({ body, request, reply }) => {
      const issued = await deps.auth.refresh(body.refreshToken ?? request.cookies[refreshCookieName]);
      return deliver(reply, issued, refreshTokenPlacement(request.headers, body.refreshToken ? 'body' : 'cookie'));
    },
    logout: async ({ body, request, reply }) => {
      await deps.auth.logout(body.refreshToken ?? request.cookies[refreshCookieName]);
      reply.clearCookie(refreshCookieName, cookie);
      return { status: 204, body: undefined };
    },
  };
}
