import { createHash } from 'node:crypto';
import { sql, type ColumnType, type Generated, type Kysely } from 'kysely';
import { httpError } from './errors.js';

/**
 * `Idempotency-Key` for creating operations (the IETF httpapi draft): the
 * same key with the same request replays the first answer; the same key with
 * another request is a 422; a key whose first request is still running is a
 * 409. Keys are scoped to the caller and the operation and kept 24 hours.
 * Only successful answers are kept: a failed request frees its key, so the
 * client may retry it.
 */
export interface IdempotencyKeysTable {
  scope: string;
  operation: string;
  key: string;
  request_hash: string;
  /** Null while the first request runs. */
  status: number | null;
  response: ColumnType<StoredAnswer | null, string | null, string | null>;
  locked_until: Date;
  created_at: Generated<Date>;
}

export interface IdempotencyDatabase {
  idempotency_keys: IdempotencyKeysTable;
}

export interface StoredAnswer {
  headers: Record<string, string>;
  body: unknown;
}

/** The idempotency table, for a service's migration (frozen: 2026-11-29). */
export async function createIdempotencyTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', 'text', (column) => column.notNull())
    .addColumn('operation', 'text', (column) => column.notNull())
    .addColumn('key', 'text', (column) => column.notNull())
    .addColumn('request_hash', 'text', (column) => column.notNull())
    .addColumn('status', 'integer')
    .addColumn('response', 'jsonb')
    .addColumn('locked_until', 'timestamptz', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'operation', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_created_at').on('idempotency_keys').column('created_at').execute();
}

/** How long a key is remembered. */
export const idempotencyKeyHours = 24;
/** How long a first request may run before a retry with its key may take over (it crashed). */
const inFlightLeaseSeconds = 60;
/** Keys are what clients choose: printable ASCII, bounded. */
const keyPattern = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted: the same request hashes the same whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(request: { params: unknown; query: unknown; body: unknown }): string {
  return createHash('sha256').update(canonical(request)).digest('hex');
}

export type Claim = { kind: 'claimed' } | { kind: 'replay'; status: number; answer: StoredAnswer };

/**
 * Claims `key` for this request, or says what to do instead: replay the
 * stored answer, or refuse (422 another request, 409 still running).
 */
export async function claimIdempotencyKey(
  database: Kysely<IdempotencyDatabase>,
  entry: { scope: string; operation: string; key: string; requestHash: string },
): Promise<Claim> {
  if (!keyPattern.test(entry.key)) {
    throw httpError('invalid_input', 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.', {
      errors: [{ field: 'headers/idempotency-key', message: 'must be 1 to 255 printable ASCII characters' }],
    });
  }
  const db = database;
  const row = { scope: entry.scope, operation: entry.operation, key: entry.key };
  // Two rounds at most: the second follows the removal of an expired key.
  for (let round = 0; round < 2; round += 1) {
    const claimed = await db
      .insertInto('idempotency_keys')
      .values({ ...row, request_hash: entry.requestHash, status: null, response: null, locked_until: sql<Date>`now() + make_interval(secs => ${inFlightLeaseSeconds})` })
      .onConflict((conflict) => conflict.columns(['scope', 'operation', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (claimed) return { kind: 'claimed' };

    const existing = await db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'status', 'response', sql<boolean>`created_at < now() - make_interval(hours => ${idempotencyKeyHours})`.as('expired'), sql<boolean>`locked_until < now()`.as('abandoned')])
      .where('scope', '=', row.scope)
      .where('operation', '=', row.operation)
      .where('key', '=', row.key)
      .executeTakeFirst();
    if (!existing) continue; // freed meanwhile: claim again
    if (existing.expired) {
      await db.deleteFrom('idempotency_keys').where('scope', '=', row.scope).where('operation', '=', row.operation).where('key', '=', row.key).execute();
      continue;
    }
    if (existing.request_hash !== entry.requestHash) {
      throw httpError('idempotency_key_reused', 'This Idempotency-Key was used for a different request; use a new key for a new request.');
    }
    if (existing.status !== null && existing.response) return { kind: 'replay', status: existing.status, answer: existing.response };
    if (existing.abandoned) {
      // The first request died without answering: this retry takes the key over.
      const taken = await db
        .updateTable('idempotency_keys')
        .set({ locked_until: sql<Date>`now() + make_interval(secs => ${inFlightLeaseSeconds})` })
        .where('scope', '=', row.scope)
        .where('operation', '=', row.operation)
        .where('key', '=', row.key)
        .where('status', 'is', null)
        .where('locked_until', '<', sql<Date>`now()`)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) return { kind: 'claimed' };
    }
    throw httpError('idempotency_key_in_flight', 'A request with this Idempotency-Key is still being processed; retry shortly.', { headers: { 'retry-after': '1' } });
  }
  throw httpError('idempotency_key_in_flight', 'A request with this Idempotency-Key is still being processed; retry shortly.', { headers: { 'retry-after': '1' } });
}

/** Keeps the answer of a claimed key for replay. */
export async function completeIdempotencyKey(
  db: Kysely<IdempotencyDatabase>,
  entry: { scope: string; operation: string; key: string },
  status: number,
  answer: StoredAnswer,
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status, response: JSON.stringify(answer) })
    .where('scope', '=', entry.scope)
    .where('operation', '=', entry.operation)
    .where('key', '=', entry.key)
    .execute();
}

/** Frees a claimed key whose request failed, so that the client may retry with it. */
export async function releaseIdempotencyKey(db: Kysely<IdempotencyDatabase>, entry: { scope: string; operation: string; key: string }): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('scope', '=', entry.scope).where('operation', '=', entry.operation).where('key', '=', entry.key).where('status', 'is', null).execute();
}

/** Forgets keys past their 24 hours; run now and then. */
export async function pruneIdempotencyKeys(db: Kysely<IdempotencyDatabase>): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', sql<Date>`now() - make_interval(hours => ${idempotencyKeyHours})`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
