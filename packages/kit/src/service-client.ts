import { fillPath, getOperation, type OperationId, type OperationsOf, type ParamsOf, type QueryOf, type RequestBody, type ServiceName, type SuccessBody } from '@hexa/contract';
import { AppError, httpError, isErrorCode } from './errors.js';
import { internalTokenHeader, type InternalTokens } from './internal-token.js';

/** Internal calls give up quickly: the caller answers 503 rather than hang. */
const internalCallTimeoutMs = 5000;

type Input<Op extends OperationId> = ([ParamsOf<Op>] extends [never] ? { params?: never } : { params: ParamsOf<Op> }) &
  ([QueryOf<Op>] extends [never] ? { query?: never } : { query?: QueryOf<Op> }) &
  ([RequestBody<Op>] extends [never] ? { body?: never } : { body: RequestBody<Op> });

function searchOf(query: Record<string, unknown> | undefined): string {
  const entries = Object.entries(query ?? {}).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([key, value]): [string, string] => [key, String(value)])).toString()}`;
}

/**
 * Calls the internal operations of another service, typed from the contract,
 * each with a token minted for that one operation. A service that cannot be
 * reached becomes a 503 `service_unavailable`; a problem it answers is
 * re-thrown with its code.
 *
 * @example
 * const membership = createServiceClient({ baseUrl, tokens, audience: 'membership' });
 * const { outcome } = await membership.call('grantCreatorAdmin', { params: { slug, userId }, body: { workspaceId } });
 */
export function createServiceClient<S extends ServiceName>(options: { baseUrl: string; tokens: InternalTokens; audience: S }) {
  return {
    async call<Op extends OperationsOf<S>>(operationId: Op, input: Input<Op>, options_: { timeoutMs?: number } = {}): Promise<SuccessBody<Op>> {
      const operation = getOperation(operationId);
      const { params, query, body } = input as { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
      const token = options.tokens.sign({ audience: options.audience, operation: operation.signature, caller: { kind: 'service', service: options.tokens.service } });
      let response: Response;
      try {
        response = await fetch(`${options.baseUrl}${fillPath(operation.path, params ?? {})}${searchOf(query)}`, {
          method: operation.method.toUpperCase(),
          headers: { [internalTokenHeader]: token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(options_.timeoutMs ?? internalCallTimeoutMs),
        });
      } catch {
        throw httpError('service_unavailable', `The ${options.audience} service cannot be reached.`);
      }
      const text = await response.text().catch(() => '');
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        throw httpError('service_unavailable', `The ${options.audience} service answered something unreadable.`);
      }
      if (!response.ok) {
        const code = (parsed as { code?: unknown } | undefined)?.code;
        if (isErrorCode(code) && response.status < 500) throw new AppError(code, (parsed as { detail?: string }).detail);
        throw httpError('service_unavailable', `The ${options.audience} service answered ${response.status}.`);
      }
      return parsed as SuccessBody<Op>;
    },
  };
}

export type ServiceClient<S extends ServiceName> = ReturnType<typeof createServiceClient<S>>;
