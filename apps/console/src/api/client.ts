import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '@hexa/contract';

/** The gateway's API, typed from the contract's generated `paths` (no hand-written request types). */
export type ApiClient = Client<paths>;
export type Schemas = components['schemas'];
export type Session = Schemas['Session'];
export type User = Schemas['User'];

/**
 * Keeps the access token in memory only (never in storage, where any script
 * could read it) and renews it with the refresh cookie, which scripts cannot
 * read at all. Every request but the auth operations carries the token; a
 * 401 triggers one refresh, shared by every request that failed meanwhile,
 * and the request is sent once more. A second 401 is the answer.
 */
export interface SessionKeeper {
  readonly accessToken: string | null;
  /** Starts a session from a sign-in or a refresh answer. */
  begin(session: Session): void;
  /** Forgets the access token (sign-out, or a session that cannot be renewed). */
  end(): void;
  /** Asks for a new access token with the refresh cookie; false when there is no session to renew. */
  refresh(): Promise<Session | null>;
}

export interface Api {
  client: ApiClient;
  session: SessionKeeper;
}

export interface ApiOptions {
  /** The gateway's `/api`, absolute (`new URL('/api', location.origin)` in the browser). */
  baseUrl: string;
  /** The network (globalThis.fetch by default): tests give a fake. */
  fetch?: (request: Request) => Promise<Response>;
  /** Called when the session is over (refresh refused): the console goes to the sign-in page. */
  onSessionEnded?: () => void;
  /** Called with every session the keeper starts or renews (the user may have changed name or role). */
  onSession?: (session: Session) => void;
}

/** The auth operations manage the session themselves: no token, no retry. */
const authPath = /\/api\/auth\//;

export function createApi(options: ApiOptions): Api {
  const network = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  // Refresh goes through a client of its own: it must not pass through the retrying fetch below.
  const bare = createClient<paths>({ baseUrl: options.baseUrl, fetch: network, credentials: 'same-origin' });

  let accessToken: string | null = null;
  let refreshing: Promise<Session | null> | null = null;

  const session: SessionKeeper = {
    get accessToken() {
      return accessToken;
    },
    begin(next) {
      accessToken = next.accessToken;
      options.onSession?.(next);
    },
    end() {
      accessToken = null;
    },
    refresh() {
      // Single flight: ten requests failing together cause one refresh (the refresh token is single use).
      refreshing ??= (async () => {
        try {
          const { data } = await bare.POST('/auth/refresh', {});
          if (!data) {
            accessToken = null;
            return null;
          }
          session.begin(data);
          return data;
        } catch {
          // Network down: keep the token we have; the caller sees its own error.
          return null;
        } finally {
          refreshing = null;
        }
      })();
      return refreshing;
    },
  };

  const withToken = (request: Request, token: string | null): Request => {
    const copy = new Request(request);
    if (token) copy.headers.set('authorization', `Bearer ${token}`);
    return copy;
  };

  async function authedFetch(request: Request): Promise<Response> {
    if (authPath.test(new URL(request.url).pathname)) return network(request);
    // Kept before the first send, which consumes the body.
    const retry = request.clone();
    const sentWith = accessToken;
    const response = await network(withToken(request, sentWith));
    if (response.status !== 401) return response;
    // Another request may have renewed the token while this one was in flight.
    const renewed = accessToken && accessToken !== sentWith ? accessToken : (await session.refresh())?.accessToken;
    if (!renewed) {
      options.onSessionEnded?.();
      return response;
    }
    return network(withToken(retry, renewed));
  }

  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: authedFetch, credentials: 'same-origin' });
  return { client, session };
}
