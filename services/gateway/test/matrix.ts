import { randomUUID } from 'node:crypto';
import { compileSchema } from '@hexa/kit';
import { listOperations, roleHasPermission, type ContractOperation, type JsonSchema, type WorkspaceRole } from '@hexa/contract';

/**
 * The permission matrix, walked over every operation of the contract. Each
 * request carries an unknown field (in the body when the operation takes one,
 * else in the query string; Fastify validates the body first and stops at the
 * first part that fails): the binding's checks run before validation and
 * validation before the handler, so a caller who may pass gets a 400 naming
 * the probe and nothing runs, and one who may not gets the binding's 401/403/404.
 */
export const probe = 'zzMatrixProbe';

/** The URL (without the gateway's prefix) and body of a probing request; the workspace's slug where the operation names it. */
export function probing(operation: ContractOperation, slug: string): { url: string; headers: Record<string, string>; payload?: string } {
  const path = pathOf(operation, slug);
  const query = new URLSearchParams(operation.workspaceParam?.in === 'query' ? { [operation.workspaceParam.name]: slug } : {});
  if (!operation.schema.body) query.set(probe, '1');
  const url = query.size > 0 ? `${path}?${query}` : path;
  return operation.schema.body
    ? { url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ [probe]: 1 }) }
    : { url, headers: {} };
}

/** True when validation refused the probe: the caller got past every check before it. */
export function passedChecks(body: Answer['body']): boolean {
  return body.code === 'invalid_input' && (body.errors ?? []).some((error) => error.field === `querystring/${probe}` || error.field === `body/${probe}`);
}

export type Persona = 'anonymous' | 'non-member' | 'viewer' | 'editor' | 'admin' | 'organization-admin';
export const personas: Persona[] = ['anonymous', 'non-member', 'viewer', 'editor', 'admin', 'organization-admin'];

const memberRoles: Partial<Record<Persona, WorkspaceRole>> = { viewer: 'VIEWER', editor: 'EDITOR', admin: 'ADMIN', 'organization-admin': 'ADMIN' };

export interface Answer {
  status: number;
  body: { code?: string; errors?: { field: string }[] };
}

export type Expected = 'unauthenticated' | 'workspace_not_found' | 'forbidden' | 'passes';

/** What the contract declares for a persona on an operation. */
export function expected(operation: ContractOperation, persona: Persona): Expected {
  if (operation.isPublic) return 'passes';
  if (persona === 'anonymous') return 'unauthenticated';
  if (operation.permission === undefined) return 'passes';
  const role = memberRoles[persona];
  if (!role) return 'workspace_not_found';
  return roleHasPermission(role, operation.permission) ? 'passes' : 'forbidden';
}

/** What an answer shows the binding did. */
export function observed(answer: Answer): Expected | `unexpected ${number} ${string}` {
  const { status, body } = answer;
  if (status === 400 && passedChecks(body)) return 'passes';
  if (status === 401 && body.code === 'unauthenticated') return 'unauthenticated';
  if (status === 404 && body.code === 'workspace_not_found') return 'workspace_not_found';
  if (status === 403 && body.code === 'forbidden') return 'forbidden';
  return `unexpected ${status} ${String(body.code)}`;
}

/** A valid value for a path parameter that is not the workspace's slug; a new kind of parameter must be taught here. */
function sampleParameter(name: string, schema: JsonSchema): string {
  const candidates = [randomUUID(), 'sample', 'sample_key', 'sample-code', 'sample.txt', '1'];
  const validate = compileSchema(schema);
  const valid = candidates.find((candidate) => validate(candidate));
  if (valid === undefined) throw new Error(`No sample value for path parameter ${name}; add one to sampleParameter`);
  return valid;
}

/** The path of an operation with its parameters filled, the workspace's slug for `{slug}`. */
export function pathOf(operation: ContractOperation, slug: string): string {
  const properties = (operation.schema.params?.properties ?? {}) as Record<string, JsonSchema>;
  return operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(name === 'slug' ? slug : sampleParameter(name, properties[name] ?? {})));
}

export interface Mismatch {
  operation: string;
  persona: Persona;
  expected: Expected;
  observed: string;
}

/**
 * Calls every operation of `operations` as every persona and returns each
 * answer that differs from the declaration.
 */
export async function walkMatrix(
  operations: ContractOperation[],
  call: (operation: ContractOperation, persona: Persona) => Promise<Answer>,
): Promise<Mismatch[]> {
  const mismatches: Mismatch[] = [];
  for (const operation of operations) {
    for (const persona of personas) {
      const want = expected(operation, persona);
      const got = observed(await call(operation, persona));
      if (got !== want) mismatches.push({ operation: operation.signature, persona, expected: want, observed: got });
    }
  }
  return mismatches;
}

/** The operations a user reaches through the gateway. */
export function publicOperations(): ContractOperation[] {
  return listOperations().filter((operation) => operation.service !== 'gateway' && !operation.internal);
}
