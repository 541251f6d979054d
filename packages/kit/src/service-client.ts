import { AppError, httpError, isErrorCode } from './errors.js';
import { internalTokenHeader, signInternalToken, type Caller } from './internal-token.js';

/** Internal calls give up quickly: the caller answers 503 rather than hang. */
const internalCallTimeoutMs = 5000;

/**
 * Calls another service over internal HTTP with a signed internal token.
 * A service that cannot be reached becomes a 503 `service_unavailable`; a
 * problem it answers is re-thrown with its code.
 *
 * @example
 * const membership = createServiceClient({ baseUrl, secret, issuer: 'workspaces', audience: 'membership' });
 * await membership.request('PUT', `/internal/workspaces/${slug}/members/${userId}`, { body: { role: 'ADMIN' } });
 */
export function createServiceClient(options: { baseUrl: string; secret: string; issuer: string; audience: string }) {
  return {
    async request<T>(method: string, path: string, init: { body?: unknown; caller?: Caller } = {}): Promise<T> {
      const token = await signInternalToken(options.secret, {
        issuer: options.issuer,
        audience: options.audience,
        caller: init.caller ?? { kind: 'service', service: options.issuer },
      });
      let response: Response;
      try {
        response = await fetch(`${options.baseUrl}${path}`, {
          method,
          headers: { [internalTokenHeader]: token, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
          signal: AbortSignal.timeout(internalCallTimeoutMs),
        });
      } catch {
        throw httpError('service_unavailable', `The ${options.audience} service cannot be reached.`);
      }
      const text = await response.text();
      const parsed: unknown = text ? JSON.parse(text) : undefined;
      if (!response.ok) {
        const code = (parsed as { code?: unknown } | undefined)?.code;
        if (isErrorCode(code) && response.status < 500) throw new AppError(code, (parsed as { detail?: string }).detail);
        throw httpError('service_unavailable', `The ${options.audience} service answered ${response.status}.`);
      }
      return parsed as T;
    },
  };
}

export type ServiceClient = ReturnType<typeof createServiceClient>;
