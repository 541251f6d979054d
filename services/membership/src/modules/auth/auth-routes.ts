import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperationHandlers } from '@hexa/kit';
import type { AuthService } from './auth-service.js';

export const refreshCookieName = 'hexa_refresh';
/** The cookie goes only to the auth endpoints, behind the gateway's `/api` prefix. */
const refreshCookiePath = '/api/auth';

type AuthHandlers = Pick<OperationHandlers<'membership'>, 'login' | 'refreshSession' | 'logout'>;

export function authHandlers(deps: { auth: AuthService; cookieSecure: boolean; refreshTokenTtlDays: number }): AuthHandlers {
  const setCookie = (reply: FastifyReply, token: string) =>
    reply.setCookie(refreshCookieName, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: deps.cookieSecure,
      path: refreshCookiePath,
      maxAge: deps.refreshTokenTtlDays * 86_400,
    });
  const presentedToken = (request: FastifyRequest, body: { refreshToken?: string }) => body.refreshToken ?? request.cookies[refreshCookieName];
  // The gateway is the only way in; it reports the client's address.
  const clientAddress = (request: FastifyRequest) => String(request.headers['x-forwarded-for'] ?? request.ip).split(',')[0]!.trim();

  return {
    login: async ({ body, request, reply }) => {
      const session = await deps.auth.login({ email: body.email, password: body.password, clientAddress: clientAddress(request) });
      setCookie(reply, session.refreshToken);
      return { status: 200, body: session, headers: { 'cache-control': 'no-store' } };
    },
    refreshSession: async ({ body, request, reply }) => {
      const session = await deps.auth.refresh(presentedToken(request, body));
      setCookie(reply, session.refreshToken);
      return { status: 200, body: session, headers: { 'cache-control': 'no-store' } };
    },
    logout: async ({ body, request, reply }) => {
      await deps.auth.logout(presentedToken(request, body));
      reply.clearCookie(refreshCookieName, { path: refreshCookiePath });
      return { status: 204, body: undefined };
    },
  };
}
