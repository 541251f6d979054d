import type { paths } from '@hexa/contract';
import { createApi, type Api, type ApiOptions } from '../../src/api/client';
import { installApi } from '../../src/api/install';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** `METHOD /path` of an operation of the contract: a fake cannot answer an operation that does not exist. */
export type Route = `${Method} ${keyof paths & string}`;

export interface FakeCall {
  route: Route;
  request: Request;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export type Handler = (call: FakeCall) => Response | Promise<Response>;

export const baseUrl = 'http://hexa.test/api';

/** Path parameters that span several segments (the contract's `x-wildcard`: a file's path keeps its `/`). */
const wildcardParameters = new Set(['path']);

export function json(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function problem(status: number, code: string, extra: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ type: 'about:blank', title: code, status, code, ...extra }), { status, headers: { 'content-type': 'application/problem+json' } });
}

/**
 * The network as the console's API client sees it, answering only the
 * routes a test names; any other call fails the test (no silent defaults).
 * Every call is recorded, with the Authorization it carried.
 */
export function fakeNetwork(routes: Partial<Record<Route, Handler>>) {
  const calls: FakeCall[] = [];
  const compiled = Object.entries(routes).map(([route, handler]) => {
    const [method, template] = route.split(' ') as [Method, string];
    const names: string[] = [];
    const pattern = new RegExp(`^/api${template.replace(/\{(\w+)\}/g, (_match, name: string) => (names.push(name), wildcardParameters.has(name) ? '(.+)' : '([^/]+)'))}$`);
    return { route: route as Route, method, pattern, names, handler: handler as Handler };
  });
  async function fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    for (const entry of compiled) {
      const match = entry.method === request.method ? entry.pattern.exec(url.pathname) : null;
      if (!match) continue;
      const params = Object.fromEntries(entry.names.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]));
      // JSON bodies are read for the test; others (an upload's bytes) stay in `request`.
      const text = /json/.test(request.headers.get('content-type') ?? '') ? await request.clone().text() : '';
      const call: FakeCall = { route: entry.route, request, params, query: url.searchParams, body: text ? JSON.parse(text) : undefined };
      calls.push(call);
      return entry.handler(call);
    }
    throw new Error(`unexpected call: ${request.method} ${url.pathname}${url.search}`);
  }
  return { fetch, calls, callsTo: (route: Route) => calls.filter((call) => call.route === route) };
}

/** Installs an API over a fake network, as main.ts installs the real one. */
export function installFakeApi(network: ReturnType<typeof fakeNetwork>, options: Omit<ApiOptions, 'baseUrl' | 'fetch'> = {}): Api {
  const api = createApi({ baseUrl, fetch: network.fetch, ...options });
  installApi(api);
  return api;
}

/** Browsers' localStorage, in memory, for stores that remember things. */
export class MemoryStorage implements Storage {
  #items = new Map<string, string>();
  get length() {
    return this.#items.size;
  }
  clear() {
    this.#items.clear();
  }
  getItem(key: string) {
    return this.#items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.#items.delete(key);
  }
  setItem(key: string, value: string) {
    this.#items.set(key, String(value));
  }
}

/** A promise settled from outside: to answer a request later than another. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

export const session = (accessToken: string, user: Partial<ReturnType<typeof userOf>> = {}) => ({
  accessToken,
  tokenType: 'Bearer' as const,
  expiresIn: 900,
  user: userOf(user),
});

export function userOf(overrides: Partial<{ id: string; email: string; name: string; organizationRole: 'OWNER' | 'ADMIN' | 'MEMBER'; createdAt: string }> = {}) {
  return { id: '00000000-0000-4000-8000-000000000001', email: 'ada@example.org', name: 'Ada', organizationRole: 'MEMBER' as const, createdAt: '2026-11-01T00:00:00.000Z', ...overrides };
}
