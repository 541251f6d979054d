import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { DestinationStream } from 'pino';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchema } from 'fastify';
import { Ajv2020, type ErrorObject, type Options as AjvOptions } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  addressedSlug,
  listOperations,
  roleHasPermission,
  schemaCompilerOptions,
  type ContractOperation,
  type OperationId,
  type OperationsOf,
  type ParamsOf,
  type QueryOf,
  type RequestBody,
  type ServiceName,
  type SuccessOf,
} from '@hexa/contract';
import type { Kysely } from 'kysely';
import { AppError, errorCodes, httpError, toProblem, type FieldError } from './errors.js';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  defaultIdempotencyLeaseSeconds,
  findIdempotentAnswer,
  IdempotencyKeyAnswered,
  idempotentRequest,
  releaseIdempotencyKey,
  requestHash,
  type IdempotencyDatabase,
  type IdempotentRequest,
} from './idempotency.js';
import { decodeUtf8, holdsLoneSurrogate, isIdentityEncoding, isWellFormedQuery, maxJsonBodyDepth, nestsDeeperThan } from './request-input.js';
import { loggerOptions } from './logger.js';
import { Metrics } from './metrics.js';
import { within } from './within.js';
import { isDatabaseUnavailable, isPoolBusy } from './db.js';
import { internalTokenHeader, type Caller, type InternalTokens, type UserCaller } from './internal-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

// ajv-formats ships CommonJS with a default export under `default`.
const formatsModule = addFormatsModule as unknown as { default?: (ajv: Ajv2020) => Ajv2020 } & ((ajv: Ajv2020) => Ajv2020);
const addFormats = formatsModule.default ?? formatsModule;

// The contract is OpenAPI 3.1, whose schemas are JSON Schema 2020-12, compiled
// as the contract check compiles them (strict: an unknown keyword is refused).
function buildAjv(coerceTypes: boolean): Ajv2020 {
  const options: AjvOptions = { ...schemaCompilerOptions, useDefaults: true, removeAdditional: false, coerceTypes };
  const ajv = new Ajv2020(options);
  addFormats(ajv);
  return ajv;
}
// Bodies are JSON and must already have the right types; query strings and
// path parameters are text, so they are coerced (`?page=2` → 2).
const bodyAjv = buildAjv(false);
const textAjv = buildAjv(true);

/**
 * A validator for a schema of the contract outside an HTTP route (job
 * payloads): same dialect, same strictness.
 *
 * @example
 * const validate = compileSchema(jobSchema); if (!validate(payload)) …
 */
export function compileSchema(schema: Record<string, unknown>) {
  return bodyAjv.compile(schema);
}

/** What a client is told to wait when a dependency is away (a database restart takes a few seconds). */
const databaseRetryAfterSeconds = 2;

/** Request ids are accepted from the caller when they look like one, else generated. */
const requestIdPattern = /^[A-Za-z0-9._:-]{8,128}$/;

/** Server timeouts: a slow client cannot hold a connection forever. */
const requestTimeoutMs = 30_000;
const keepAliveTimeoutMs = 72_000;
const defaultBodyLimitBytes = 1024 * 1024;

export interface HttpAppOptions {
  service: string;
  logLevel: string;
  metrics?: Metrics;
  /** Readiness checks by name; each throws when its dependency is down. */
  readiness?: Record<string, () => Promise<void>>;
  bodyLimit?: number;
  /** Where /healthz, /readyz and /metrics live (the gateway serves them under `/api`). */
  platformPrefix?: string;
  /** Fastify's `trustProxy`: which proxies' X-Forwarded-For to believe (the gateway behind a load balancer). */
  trustProxy?: boolean | string;
  /** Where log lines go (standard output when left out). */
  logDestination?: DestinationStream;
  /**
   * How long a client may take to send a whole request (default 30 s); 0 for
   * no cap, for a proxy that streams uploads of any length (Node's 60 s
   * headers timeout still bounds the headers).
   */
  requestTimeoutMs?: number;
  /** A connection silent this long (no byte either way) is closed; 0 (default) never. */
  idleTimeoutMs?: number;
  /**
   * The level of the one line logged per answered request (default `debug`).
   * The gateway logs every client request at `info`; the services behind it
   * would only repeat those lines (same request id), so theirs stay at
   * `debug` unless something fails.
   */
  accessLogLevel?: 'info' | 'debug';
}

function fieldOf(error: ErrorObject, part: string): string {
  const base = error.instancePath ? `${part}${error.instancePath}` : part;
  if (error.keyword === 'additionalProperties') return `${base}/${String(error.params.additionalProperty)}`;
  if (error.keyword === 'unevaluatedProperties') return `${base}/${String(error.params.unevaluatedProperty)}`;
  if (error.keyword === 'required') return `${base}/${String(error.params.missingProperty)}`;
  return base;
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `unknown field "${String(error.params.additionalProperty)}"`;
  if (error.keyword === 'unevaluatedProperties') return `unknown field "${String(error.params.unevaluatedProperty)}"`;
  if (error.keyword === 'required') return `"${String(error.params.missingProperty)}" is required`;
  return error.message ?? 'is not valid';
}

/** Field errors of a failed validation, as problem+json `errors`. */
export function fieldErrors(errors: ErrorObject[], part: string): FieldError[] {
  return errors.map((item) => ({ field: fieldOf(item, part), message: messageOf(item) }));
}

/** Maps anything thrown inside a request to a problem+json error, never leaking internals. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & { validation?: ErrorObject[]; validationContext?: string };
  if (Array.isArray(fastifyError.validation)) {
    const errors = fieldErrors(fastifyError.validation, fastifyError.validationContext ?? 'body');
    return httpError('invalid_input', errors.map((item) => `${item.field}: ${item.message}`).join('; '), { errors });
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return httpError('unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return httpError('body_too_large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return httpError('malformed_body', 'The body is empty but the content type says JSON.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return httpError('malformed_body', 'The body is not valid JSON.');
    case 'FST_ERR_BAD_URL':
      return httpError('invalid_input', 'The URL is not valid (a malformed percent-encoding?).');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return httpError('uri_too_long', 'A part of the path is longer than any valid value.');
    default:
      break;
  }
  if (fastifyError instanceof SyntaxError && fastifyError.statusCode === 400) {
    return httpError('malformed_body', 'The body is not valid JSON.');
  }
  if (isPoolBusy(error)) {
    return httpError('service_unavailable', 'The service is too busy to answer now; try again in a few seconds.', { headers: { 'retry-after': String(databaseRetryAfterSeconds) } });
  }
  if (isDatabaseUnavailable(error)) {
    return httpError('service_unavailable', 'The database is unavailable; try again in a few seconds.', { headers: { 'retry-after': String(databaseRetryAfterSeconds) } });
  }
  // PostgreSQL refuses some text (a NUL character): that is bad input, not a fault.
  if ((error as { code?: string }).code === '22021' || (error as { code?: string }).code === '22P05') {
    return httpError('invalid_input', 'The text contains characters that cannot be stored.');
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return httpError(fastifyError.statusCode === 415 ? 'unsupported_media_type' : 'invalid_input', fastifyError.message);
  }
  return httpError('internal_error');
}

/** Sends an AppError as application/problem+json. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.extras.headers ?? {})) reply.header(name, value);
  // A dependency that is away comes back: every 503 tells the client when to try again.
  if (error.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(databaseRetryAfterSeconds));
  return reply
    .code(error.status)
    .type('application/problem+json')
    .serializer(JSON.stringify)
    .send(toProblem(error, request.id, request.url.split('?')[0]));
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (headers or a
 * query string too large, a malformed request line) also get a problem+json.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const appError = error.code === 'HPE_HEADER_OVERFLOW' ? httpError('request_headers_too_large') : httpError('invalid_input', 'The request cannot be parsed.');
  const body = JSON.stringify(toProblem(appError));
  socket.end(
    `HTTP/1.1 ${appError.status} ${errorCodes[appError.code].title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Builds a Fastify app with the platform's conventions: request ids, logging
 * with redaction, strict validation, problem+json errors (the framework's
 * own included), metrics, health and readiness. Routes are added by the caller.
 */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const metrics = options.metrics ?? new Metrics(options.service);
  const app = Fastify({
    logger: { ...loggerOptions(options.service, options.logLevel), ...(options.logDestination ? { stream: options.logDestination } : {}) },
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: options.bodyLimit ?? defaultBodyLimitBytes,
    requestTimeout: options.requestTimeoutMs ?? requestTimeoutMs,
    connectionTimeout: options.idleTimeoutMs ?? 0,
    keepAliveTimeout: keepAliveTimeoutMs,
    return503OnClosing: true,
    // One line per request, written when it is answered (below), instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, reply) => {
      sendProblem(request, reply, toAppError(error));
    },
  });

  // JSON only: a text/plain body is refused (415) rather than read as a string.
  app.removeContentTypeParser('text/plain');
  // JSON as the contract means it: UTF-8, nested no deeper than any of its documents, real text (request-input.ts);
  // then Fastify's own parser, which refuses `__proto__` and `constructor.prototype` keys.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === undefined) return done(httpError('malformed_body', 'The body is not valid UTF-8.'), undefined);
    if (nestsDeeperThan(text, maxJsonBodyDepth)) return done(httpError('malformed_body', `The body nests arrays and objects more than ${maxJsonBodyDepth} levels deep.`), undefined);
    parseJson(request, text, (error, value) => {
      if (error) return done(error, undefined);
      if (holdsLoneSurrogate(value)) return done(httpError('malformed_body', 'The body holds a lone UTF-16 surrogate (\\ud800 to \\udfff without its pair), which is no text.'), undefined);
      done(null, value);
    });
  });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // The query parser leaves what it cannot decode as written (`%FF` stays the three characters): refuse
  // instead a query string that is not well-formed percent-encoded UTF-8, as a path already is.
  app.addHook('onRequest', async (request) => {
    // Nothing decompresses a body on its way in: a compressed one would be read (or stored) as its compressed bytes.
    if (!isIdentityEncoding(request.headers['content-encoding'])) {
      throw httpError('unsupported_media_type', 'Send the body uncompressed: no Content-Encoding is accepted.', { headers: { 'accept-encoding': 'identity' } });
    }
    const query = request.url.indexOf('?');
    if (query >= 0 && !isWellFormedQuery(request.url.slice(query + 1))) {
      throw httpError('invalid_input', 'The query string is not valid: a malformed percent-encoding, or bytes that are not UTF-8 (write % as %25).');
    }
  });
  const accessLogLevel = options.accessLogLevel ?? 'debug';
  app.addHook('onResponse', async (request, reply) => {
    request.log[accessLogLevel]({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError.status === 503) request.log.warn({ err: error }, 'dependency unavailable');
    else if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code }, appError.message);
    return sendProblem(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, httpError('route_not_found', `No operation ${request.method} ${request.url.split('?')[0]}.`)),
  );

  const prefix = options.platformPrefix ?? '';
  app.get(`${prefix}/healthz`, async () => ({ status: 'ok' }));
  app.get(`${prefix}/readyz`, async (_request, reply) => {
    const result = await checkReadiness(options.readiness ?? {});
    return reply.code(result.status === 'ready' ? 200 : 503).send(result);
  });
  app.get(`${prefix}/metrics`, async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}

/** Readiness checks give up after this long: a hung dependency is a down one. */
const readinessTimeoutMs = 2000;

export async function checkReadiness(checks: Record<string, () => Promise<void>>): Promise<{ status: 'ready' | 'unavailable'; checks: Record<string, 'up' | 'down'> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await within(readinessTimeoutMs, check());
        return [name, 'up'] as const;
      } catch {
        return [name, 'down'] as const;
      }
    }),
  );
  const result = Object.fromEntries(entries) as Record<string, 'up' | 'down'>;
  return { status: Object.values(result).every((state) => state === 'up') ? 'ready' : 'unavailable', checks: result };
}

/** What a handler of an operation receives: validated, typed input and the verified caller. */
export interface OperationContext<Op extends OperationId> {
  body: RequestBody<Op>;
  query: QueryOf<Op>;
  params: ParamsOf<Op>;
  caller: Caller;
  request: FastifyRequest;
  reply: FastifyReply;
  /**
   * Set for a creating operation called with an `Idempotency-Key`: its
   * handler stores the answer in the effect's transaction (`answerIn`).
   */
  idempotency?: IdempotentRequest;
}

export type OperationResult<Op extends OperationId> = SuccessOf<Op> & { headers?: Record<string, string> };
export type OperationHandler<Op extends OperationId> = (context: OperationContext<Op>) => Promise<OperationResult<Op>>;

/** A handler for every operation the contract gives the service — the compiler rejects a missing one. */
export type OperationHandlers<S extends ServiceName> = { [Op in OperationsOf<S>]: OperationHandler<Op> };

/**
 * Who may pass, before any input is read: an internal operation needs a
 * service caller; a workspace operation needs a user
 * whose resolved role in the addressed workspace (its `{slug}`, or the query
 * parameter its `x-workspace-param` names) grants the operation's
 * permission (non-member 404, member without it 403); any other user
 * operation needs a signed-in user.
 */
export function authorize(
  operation: Pick<ContractOperation, 'isPublic' | 'internal' | 'permission' | 'workspaceParam'>,
  caller: Caller,
  request: { params: unknown; query: unknown },
): void {
  if (operation.internal) {
    if (caller.kind !== 'service') throw httpError('forbidden', 'Internal operations are for services only.');
    return;
  }
  if (operation.isPublic) return;
  if (caller.kind !== 'user') throw httpError('unauthenticated');
  if (operation.permission === undefined) return;
  const workspace = caller.workspace;
  // Unknown and not-yours look the same from outside.
  if (!workspace || workspace.slug !== addressedSlug(operation, request)) throw httpError('workspace_not_found');
  if (!roleHasPermission(workspace.role, operation.permission)) {
    throw httpError('forbidden', `Your role in this workspace (${workspace.role}) does not grant ${operation.permission}.`);
  }
}

/**
 * Registers the contract's operations for `service`, validated and serialised
 * by the document's schemas. Before any input is read, each checks the
 * internal token (issuer's key, audience, the operation it was minted for, an
 * issuer the operation allows) and the caller's permission (`authorize`).
 * A creating operation honours `Idempotency-Key` for signed-in users, with
 * the keys kept in the service's own `idempotency_keys` table; its handler
 * stores the answer in the transaction of its effect (`context.idempotency`),
 * so that a request dying after the commit cannot leave the key to a retry
 * that would create the thing again. `idempotencyLeaseSeconds` is how long a
 * first request may run before a retry with its key may take it over.
 * Throws at boot when an operation has no handler or a handler no operation.
 *
 * @example
 * bindOperations(app, { service: 'workspaces', tokens, idempotency: db, handlers: { createWorkspace: async ({ body, caller }) => ({ status: 201, body: … }) } });
 */
export function bindOperations<S extends ServiceName, DB extends IdempotencyDatabase = IdempotencyDatabase>(
  app: FastifyInstance,
  options: { service: S; tokens: InternalTokens; handlers: OperationHandlers<S>; idempotency?: Kysely<DB>; idempotencyLeaseSeconds?: number },
): void {
  type AnyResult = { status: number; body?: unknown; headers?: Record<string, string> };
  const handlers = options.handlers as unknown as Record<string, (context: OperationContext<never>) => Promise<AnyResult>>;
  const operations = listOperations().filter((operation) => operation.service === options.service);
  const missing = operations.filter((operation) => !handlers[operation.operationId]).map((operation) => operation.operationId);
  const unknown = Object.keys(handlers).filter((id) => !operations.some((operation) => operation.operationId === id));
  if (missing.length > 0) throw new Error(`${options.service}: operations without a handler: ${missing.join(', ')}`);
  if (unknown.length > 0) throw new Error(`${options.service}: handlers for operations not in the contract: ${unknown.join(', ')}`);
  const idempotency = options.idempotency as unknown as Kysely<IdempotencyDatabase> | undefined;
  if (!idempotency && operations.some((operation) => operation.creates)) throw new Error(`${options.service}: creating operations need an idempotency store`);

  const bind = (scope: FastifyInstance, operation: ContractOperation) => {
    const handler = handlers[operation.operationId]!;
    scope.route({
      method: operation.method.toUpperCase() as 'GET',
      url: operation.routePath,
      schema: operation.schema as FastifySchema,
      // Authenticate before the body is read: an outsider learns nothing about the schema.
      onRequest: async (request) => {
        const header = request.headers[internalTokenHeader];
        request.caller = options.tokens.verify(typeof header === 'string' ? header : undefined, operation);
      },
      preValidation: async (request) => {
        if (operation.wildcard) request.params = wildcardParams(request.params, operation.wildcard);
        authorize(operation, request.caller!, request);
        if (!operation.rawBody && !operation.bodyRequired && (request.body === undefined || request.body === null)) request.body = {};
      },
      handler: async (request, reply) => {
        const caller = request.caller!;
        const key = operation.creates ? request.headers['idempotency-key'] : undefined;
        const entry = idempotency && key !== undefined && caller.kind === 'user'
          ? {
              scope: `user:${caller.userId}`,
              operation: operation.operationId,
              key: Array.isArray(key) ? '' : key,
              requestHash: requestHash({ params: request.params, query: request.query, body: request.body }),
            }
          : undefined;
        const replay = (stored: { status: number; answer: { headers: Record<string, string>; body: unknown } }) => {
          for (const [name, value] of Object.entries(stored.answer.headers)) reply.header(name, value);
          return reply.header('idempotent-replayed', 'true').code(stored.status).send(stored.answer.body);
        };
        if (idempotency && entry) {
          const claim = await claimIdempotencyKey(idempotency, entry, options.idempotencyLeaseSeconds ?? defaultIdempotencyLeaseSeconds);
          if (claim.kind === 'replay') return replay(claim);
        }
        const idempotent = entry ? idempotentRequest(entry) : undefined;
        let result: AnyResult;
        try {
          result = await handler({ body: request.body as never, query: request.query as never, params: request.params as never, caller, request, reply, ...(idempotent ? { idempotency: idempotent } : {}) });
        } catch (error) {
          if (idempotency && entry) {
            if (error instanceof IdempotencyKeyAnswered) {
              // Another request with the key committed first; this one's effect rolled back.
              const stored = await findIdempotentAnswer(idempotency, entry);
              if (stored) return replay(stored);
              throw httpError('idempotency_key_in_flight', 'A request with this Idempotency-Key is still being processed; retry shortly.', { headers: { 'retry-after': '1' } });
            }
            // Frees the key only if no answer was committed with an effect (the error came after the commit).
            await releaseIdempotencyKey(idempotency, entry).catch((release) => request.log.warn({ err: release }, 'could not free an idempotency key'));
          }
          throw error;
        }
        if (idempotency && entry) await completeIdempotencyKey(idempotency, entry, result.status, { headers: result.headers ?? {}, body: result.body });
        for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
        reply.code(result.status);
        return result.status === 204 ? reply.send() : reply.send(result.body);
      },
    });
  };
  for (const operation of operations.filter((candidate) => !candidate.rawBody)) bind(app, operation);
  const raw = operations.filter((candidate) => candidate.rawBody);
  if (raw.length > 0) {
    // Uploads: in a scope of their own, whatever the content type, the body reaches the handler as the
    // request's stream, never parsed nor buffered (and so never held by the JSON body limit).
    void app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      for (const operation of raw) bind(scope, operation);
    });
  }
}

/**
 * Fastify names a wildcard path parameter `*`; the contract names it
 * (`ContractOperation.wildcard`). Renamed before validation, so the schema,
 * the errors and the handler all use the contract's name.
 */
export function wildcardParams(params: unknown, name: string): Record<string, unknown> {
  const { '*': value, ...rest } = (params ?? {}) as Record<string, unknown>;
  return value === undefined ? rest : { ...rest, [name]: value };
}

/** Requires a signed-in user; anonymous or service callers get 401. */
export function requireUser(caller: Caller): UserCaller {
  if (caller.kind !== 'user') throw httpError('unauthenticated');
  return caller;
}
