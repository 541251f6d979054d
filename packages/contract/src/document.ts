import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { permissionMatrix, type Permission } from './permissions.js';
import { serviceNames, type ServiceName } from './services.js';

export type JsonSchema = Record<string, unknown>;

/**
 * How every schema of the contract is compiled, by the contract check and by
 * the services alike: Ajv's JSON Schema 2020-12 build (`ajv/dist/2020.js`,
 * the dialect of OpenAPI 3.1) in strict mode, so that a keyword no validator
 * knows fails instead of being ignored. `required` may name a property that
 * only a sibling `allOf` branch declares.
 *
 * @example
 * const ajv = new Ajv2020({ ...schemaCompilerOptions, coerceTypes: false });
 */
export const schemaCompilerOptions = { strict: true, strictRequired: false, allErrors: true } as const;
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One operation of the document, with its schemas resolved for Fastify. */
export interface ContractOperation {
  operationId: string;
  method: HttpMethod;
  /** The path as the document writes it: `/workspaces/{slug}`. */
  path: string;
  /** The same path in Fastify's form: `/workspaces/:slug`; a wildcard parameter becomes `*`. */
  routePath: string;
  /**
   * The path parameter that spans several segments (`x-wildcard: true`, last
   * in the template): `/workspaces/{slug}/files/{path}` serves
   * `…/files/reports/2026/cases.csv`. Fastify names it `*`; the bindings
   * rename it before validation.
   */
  wildcard?: string;
  /** True when the body is not JSON (an upload): it reaches the handler as the raw stream, never parsed or buffered. */
  rawBody: boolean;
  /** `GET /workspaces/{slug}`: what an internal token is minted for. */
  signature: string;
  service: ServiceName;
  tags: string[];
  /** True when the operation needs no access token (`security: []`). */
  isPublic: boolean;
  /** True for service-to-service operations (`x-internal`), which the gateway never serves. */
  internal: boolean;
  /** The services allowed to call it: `x-callers` of an internal operation; the gateway for every other. */
  callers: ServiceName[];
  /** The matrix permission a workspace-scoped operation needs (`x-permission`). */
  permission?: Permission;
  /**
   * Where a workspace-scoped operation names its workspace: the `{slug}` path
   * parameter, or the query parameter `x-workspace-param` names when the path
   * has no workspace (`GET /users?workspace=`). Read it with `addressedSlug`.
   */
  workspaceParam?: { in: 'path' | 'query'; name: string };
  /** False when the body may be left out (it then counts as `{}`). */
  bodyRequired: boolean;
  /** A POST that answers 201 or 202: it creates something, and takes an `Idempotency-Key` (unless `x-idempotency: none`). */
  creates: boolean;
  schema: {
    body?: JsonSchema;
    querystring: JsonSchema;
    params?: JsonSchema;
    response: Record<string, JsonSchema>;
  };
}

// Found through the package, not next to this file: a service's bundle (npm start) holds this code elsewhere.
const documentPath = createRequire(import.meta.url).resolve('@hexa/contract/openapi.yaml');

/** The raw OpenAPI 3.1 document, as written in `openapi.yaml`. */
export function loadDocument(): Record<string, unknown> {
  return parse(readFileSync(documentPath, 'utf8')) as Record<string, unknown>;
}

function resolveRef(root: unknown, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], root);
}

/** Replaces every local `$ref` with what it points to (the document has no cycles). */
export function dereference<T>(node: T, root: unknown): T {
  if (Array.isArray(node)) return node.map((item) => dereference(item, root)) as T;
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  if (typeof record.$ref === 'string') {
    const target = record.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], root);
    if (target === undefined) throw new Error(`Unresolved $ref ${record.$ref}`);
    const { $ref: _ref, ...siblings } = record;
    return { ...(dereference(target, root) as object), ...dereference(siblings, root) } as T;
  }
  return Object.fromEntries(
    Object.entries(record)
      // `x-…` annotations are documentation; validators in strict mode must not see them.
      .filter(([key]) => !key.startsWith('x-'))
      .map(([key, value]) => [key, dereference(value, root)]),
  ) as T;
}

interface RawParameter { name: string; in: string; required?: boolean; schema: JsonSchema; 'x-wildcard'?: boolean }
interface RawOperation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  'x-service'?: string;
  'x-internal'?: boolean;
  'x-callers'?: string[];
  'x-permission'?: string;
  /** The query parameter that names the workspace of an operation whose path has no `{slug}`. */
  'x-workspace-param'?: string;
  /** `none`: a creating operation whose answer must not be kept for replay (it shows a secret once). */
  'x-idempotency'?: 'none';
  parameters?: (RawParameter | { $ref: string })[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}
type RawPaths = Record<string, Record<string, RawOperation>>;

const methods: readonly string[] = ['get', 'post', 'put', 'patch', 'delete'];

function parameterSchema(parameters: RawParameter[], location: string): JsonSchema | undefined {
  const selected = parameters.filter((parameter) => parameter.in === location);
  // An operation without query parameters still refuses unknown ones; a path has exactly its template's.
  if (selected.length === 0 && location !== 'query') return undefined;
  return {
    type: 'object',
    // Strict input: an unknown query parameter is an error, not silently ignored.
    additionalProperties: false,
    required: selected.filter((parameter) => parameter.required).map((parameter) => parameter.name),
    properties: Object.fromEntries(selected.map((parameter) => [parameter.name, parameter.schema])),
  };
}

/**
 * One schema of `components.schemas`, resolved, for code that checks a value
 * outside a contract operation (the same rule, written once).
 *
 * @example
 * const slug = componentSchema('Slug'); // { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 63, … }
 */
export function componentSchema(name: string, raw: Record<string, unknown> = loadDocument()): JsonSchema {
  const schema = (raw as { components?: { schemas?: Record<string, JsonSchema> } }).components?.schemas?.[name];
  if (!schema) throw new Error(`The contract has no schema ${name}`);
  return dereference(schema, raw);
}

/** Every operation of the document, resolved; internal operations included. */
export function listOperations(raw: Record<string, unknown> = loadDocument()): ContractOperation[] {
  const paths = (raw as { paths: RawPaths }).paths;
  const operations: ContractOperation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, rawOperation] of Object.entries(item)) {
      if (!methods.includes(method)) continue;
      const operation = dereference(rawOperation, raw);
      const service = rawOperation['x-service'];
      if (!rawOperation.operationId) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      if (!serviceNames.includes(service as ServiceName)) {
        throw new Error(`${rawOperation.operationId} has x-service ${String(service)}; expected one of ${serviceNames.join(', ')}`);
      }
      const internal = rawOperation['x-internal'] === true;
      const parameters = (operation.parameters ?? []) as RawParameter[];
      // `x-…` keys are gone from the resolved parameters: read the flag from the document as written.
      const wildcard = (rawOperation.parameters ?? [])
        .map((parameter) => ('$ref' in parameter ? resolveRef(raw, parameter.$ref) : parameter) as RawParameter)
        .find((parameter) => parameter.in === 'path' && parameter['x-wildcard'] === true)?.name;
      const content = operation.requestBody?.content ?? {};
      const body = content['application/json']?.schema;
      const response: Record<string, JsonSchema> = {};
      for (const [status, answer] of Object.entries(operation.responses ?? {})) {
        const schema = answer.content?.['application/json']?.schema;
        // Only successful answers are serialised by schema; problems have their own handler.
        if (schema && status.startsWith('2')) response[status] = schema;
      }
      const permission = rawOperation['x-permission'];
      const workspaceQuery = rawOperation['x-workspace-param'];
      const workspaceParam = path.includes('{slug}') ? { in: 'path' as const, name: 'slug' } : workspaceQuery ? { in: 'query' as const, name: workspaceQuery } : undefined;
      operations.push({
        operationId: rawOperation.operationId,
        method: method as HttpMethod,
        path,
        routePath: path.replace(/\{(\w+)\}/g, (_match, name: string) => (name === wildcard ? '*' : `:${name}`)),
        ...(wildcard ? { wildcard } : {}),
        rawBody: Object.keys(content).length > 0 && body === undefined,
        signature: `${method.toUpperCase()} ${path}`,
        service: service as ServiceName,
        tags: rawOperation.tags ?? [],
        isPublic: !internal && Array.isArray(rawOperation.security) && rawOperation.security.length === 0,
        internal,
        callers: internal ? ((rawOperation['x-callers'] ?? []) as ServiceName[]) : ['gateway'],
        ...(permission ? { permission: permission as Permission } : {}),
        ...(workspaceParam ? { workspaceParam } : {}),
        bodyRequired: rawOperation.requestBody?.required === true,
        creates: method === 'post' && rawOperation['x-idempotency'] !== 'none' && Object.keys(operation.responses ?? {}).some((status) => status === '201' || status === '202'),
        schema: {
          ...(body ? { body } : {}),
          querystring: parameterSchema(parameters, 'query')!,
          ...(parameterSchema(parameters, 'path') ? { params: parameterSchema(parameters, 'path') } : {}),
          response,
        },
      });
    }
  }
  return operations;
}

/** The payload schema of each job of each queue (`x-jobs`), resolved. */
export function listJobs(raw: Record<string, unknown> = loadDocument()): { queue: string; name: string; schema: JsonSchema }[] {
  const jobs = (raw as { 'x-jobs'?: Record<string, Record<string, JsonSchema>> })['x-jobs'] ?? {};
  return Object.entries(jobs).flatMap(([queue, byName]) =>
    Object.entries(byName).map(([name, schema]) => ({ queue, name, schema: dereference(schema, raw) })),
  );
}

const isInternal = (node: unknown): boolean => (node as { 'x-internal'?: unknown } | undefined)?.['x-internal'] === true;

/**
 * The document the gateway serves: internal operations, tags, schemas and the
 * job contract are left out.
 */
export function publicDocument(raw: Record<string, unknown> = loadDocument()): Record<string, unknown> {
  const { 'x-jobs': _jobs, ...rest } = raw as { 'x-jobs'?: unknown; paths: RawPaths; tags?: unknown[]; components: { schemas: Record<string, unknown> } };
  const paths = Object.fromEntries(
    Object.entries(rest.paths)
      .map(([path, item]) => [path, Object.fromEntries(Object.entries(item).filter(([, operation]) => !isInternal(operation)))] as const)
      .filter(([, item]) => Object.keys(item).length > 0),
  );
  const schemas = Object.fromEntries(Object.entries(rest.components.schemas).filter(([, schema]) => !isInternal(schema)));
  return { ...rest, tags: (rest.tags ?? []).filter((tag) => !isInternal(tag)), paths, components: { ...rest.components, schemas } };
}

/** Object schemas that accept unknown fields, by location, for the contract's strict-input rule. */
function openObjects(schema: unknown, at: string): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  if (Array.isArray(schema)) return schema.flatMap((item, index) => openObjects(item, `${at}/${index}`));
  const record = schema as Record<string, unknown>;
  const own = record.type === 'object' && record.additionalProperties === undefined && record.unevaluatedProperties === undefined ? [at] : [];
  return [...own, ...Object.entries(record).flatMap(([key, value]) => openObjects(value, `${at}/${key}`))];
}

/**
 * What the document breaks of the platform's rules, beyond OpenAPI itself:
 * every workspace-scoped operation declares a permission of the matrix; every
 * internal operation names its callers; every input object is closed.
 */
export function contractProblems(raw: Record<string, unknown> = loadDocument()): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const operation of listOperations(raw)) {
    const name = `${operation.operationId} (${operation.signature})`;
    if (ids.has(operation.operationId)) problems.push(`${name}: operationId is used twice`);
    ids.add(operation.operationId);
    if (operation.internal !== operation.path.startsWith('/internal/')) problems.push(`${name}: x-internal operations live under /internal/, and only they`);
    if (operation.permission !== undefined && !Object.hasOwn(permissionMatrix, operation.permission)) {
      problems.push(`${name}: x-permission ${operation.permission} is not a permission of the matrix`);
    }
    if (!operation.internal && operation.workspaceParam !== undefined && operation.permission === undefined) {
      problems.push(`${name}: a workspace-scoped operation must declare x-permission`);
    }
    if (operation.permission !== undefined && operation.workspaceParam === undefined) {
      problems.push(`${name}: x-permission needs a workspace: a {slug} path parameter or a query parameter named by x-workspace-param`);
    }
    const workspaceQuery = operation.workspaceParam?.in === 'query' ? operation.workspaceParam.name : undefined;
    if (workspaceQuery !== undefined && !((operation.schema.querystring.required ?? []) as string[]).includes(workspaceQuery)) {
      problems.push(`${name}: x-workspace-param ${workspaceQuery} must name a required query parameter`);
    }
    const headers = ((raw as { paths: RawPaths }).paths[operation.path]?.[operation.method]?.parameters ?? []) as { $ref?: string }[];
    if (operation.creates && !operation.internal && !headers.some((parameter) => parameter.$ref === '#/components/parameters/IdempotencyKey')) {
      problems.push(`${name}: a creating operation must declare the IdempotencyKey header parameter`);
    }
    if (operation.wildcard !== undefined && !operation.path.endsWith(`/{${operation.wildcard}}`)) {
      problems.push(`${name}: a wildcard path parameter (x-wildcard) must be the last segment of the path`);
    }
    if (operation.internal && operation.permission !== undefined) problems.push(`${name}: an internal operation is called by services; x-permission means nothing there`);
    if (operation.internal && (operation.callers.length === 0 || operation.callers.some((caller) => !serviceNames.includes(caller)))) {
      problems.push(`${name}: an internal operation must list its callers (x-callers) among ${serviceNames.join(', ')}`);
    }
    for (const [part, schema] of Object.entries({ body: operation.schema.body, query: operation.schema.querystring, params: operation.schema.params })) {
      for (const at of openObjects(schema, part)) problems.push(`${name}: ${at} accepts unknown fields; set additionalProperties: false`);
    }
  }
  for (const job of listJobs(raw)) {
    for (const at of openObjects(job.schema, 'payload')) problems.push(`job ${job.queue}/${job.name}: ${at} accepts unknown fields`);
  }
  return problems;
}

/**
 * The slug of the workspace a request addresses, as the request carries it
 * (not validated yet when read before validation); undefined when the
 * operation is not workspace-scoped.
 *
 * @example
 * addressedSlug(getOperation('searchUsers'), { params: {}, query: { workspace: 'malaria' } }) // 'malaria'
 */
export function addressedSlug(operation: Pick<ContractOperation, 'workspaceParam'>, request: { params: unknown; query: unknown }): unknown {
  const where = operation.workspaceParam;
  if (!where) return undefined;
  return ((where.in === 'path' ? request.params : request.query) as Record<string, unknown> | undefined)?.[where.name];
}

let byId: Map<string, ContractOperation> | undefined;

/** One operation of the committed document by its id (read once per process). */
export function getOperation(operationId: string): ContractOperation {
  byId ??= new Map(listOperations().map((operation) => [operation.operationId, operation]));
  const operation = byId.get(operationId);
  if (!operation) throw new Error(`The contract has no operation ${operationId}`);
  return operation;
}

/**
 * Fills a path template with its parameters, each percent-encoded, so that a
 * value can never add a segment (`..`, `/`, `\`) to the path. The wildcard
 * parameter (`ContractOperation.wildcard`) keeps its slashes, each segment
 * encoded; its value was validated against its schema (no `..`) before.
 *
 * @example
 * fillPath('/workspaces/{slug}', { slug: 'a/b' }) // '/workspaces/a%2Fb'
 * fillPath('/workspaces/{slug}/files/{path}', { slug: 'w', path: 'a b/c.csv' }, 'path') // '/workspaces/w/files/a%20b/c.csv'
 */
export function fillPath(template: string, params: Record<string, unknown>, wildcard?: string): string {
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined || value === null || value === '') throw new Error(`Path parameter ${name} is missing`);
    if (name === wildcard) return String(value).split('/').map(encodeURIComponent).join('/');
    return encodeURIComponent(String(value));
  });
}
