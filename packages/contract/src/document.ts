import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type JsonSchema = Record<string, unknown>;
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export const serviceNames = ['gateway', 'membership', 'workspaces'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** One operation of the document, with its schemas resolved for Fastify. */
export interface ContractOperation {
  operationId: string;
  method: HttpMethod;
  /** The path as the document writes it: `/workspaces/{slug}`. */
  path: string;
  /** The same path in Fastify's form: `/workspaces/:slug`. */
  routePath: string;
  service: ServiceName;
  tags: string[];
  /** True when the operation needs no access token (`security: []`). */
  isPublic: boolean;
  /** False when the body may be left out (it then counts as `{}`). */
  bodyRequired: boolean;
  schema: {
    body?: JsonSchema;
    querystring?: JsonSchema;
    params?: JsonSchema;
    response: Record<string, JsonSchema>;
  };
}

const documentUrl = new URL('../openapi.yaml', import.meta.url);

/** The raw OpenAPI 3.1 document, as written in `openapi.yaml`. */
export function loadDocument(): Record<string, unknown> {
  return parse(readFileSync(documentUrl, 'utf8')) as Record<string, unknown>;
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
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, dereference(value, root)])) as T;
}

interface RawParameter { name: string; in: string; required?: boolean; schema: JsonSchema }
interface RawOperation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  'x-service'?: string;
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

function parameterSchema(parameters: RawParameter[], location: string): JsonSchema | undefined {
  const selected = parameters.filter((parameter) => parameter.in === location);
  if (selected.length === 0) return undefined;
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

/** Every operation of the document, resolved. */
export function listOperations(raw: Record<string, unknown> = loadDocument()): ContractOperation[] {
  const document = dereference(raw, raw) as { paths: Record<string, Record<string, RawOperation>> };
  const operations: ContractOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const service = operation['x-service'];
      if (!operation.operationId) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      if (!serviceNames.includes(service as ServiceName)) {
        throw new Error(`${operation.operationId} has x-service ${String(service)}; expected one of ${serviceNames.join(', ')}`);
      }
      const parameters = operation.parameters ?? [];
      const body = operation.requestBody?.content?.['application/json']?.schema;
      const response: Record<string, JsonSchema> = {};
      for (const [status, answer] of Object.entries(operation.responses ?? {})) {
        const schema = answer.content?.['application/json']?.schema;
        // Only successful answers are serialised by schema; problems have their own handler.
        if (schema && status.startsWith('2')) response[status] = schema;
      }
      operations.push({
        operationId: operation.operationId,
        method: method as HttpMethod,
        path,
        routePath: path.replace(/\{(\w+)\}/g, ':$1'),
        service: service as ServiceName,
        tags: operation.tags ?? [],
        isPublic: Array.isArray(operation.security) && operation.security.length === 0,
        bodyRequired: operation.requestBody?.required === true,
        schema: {
          ...(body ? { body } : {}),
          ...(parameterSchema(parameters, 'query') ? { querystring: parameterSchema(parameters, 'query') } : {}),
          ...(parameterSchema(parameters, 'path') ? { params: parameterSchema(parameters, 'path') } : {}),
          response,
        },
      });
    }
  }
  return operations;
}
