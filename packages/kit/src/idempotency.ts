import { createHash } from 'node:crypto';
import { sql, type ColumnType, type Generated, type Kysely, type Transaction } from 'kysely';
import { httpError } from './errors.js';

/**
 * `Idempotency-Key` for creating operations (the IETF httpapi draft): the
 * same key with the same request replays the first answer; the same key with
 * another request is a 422; a key whose first request is still running is a
 * 409. Keys are scoped to the caller and the operation and kept 24 hours.
 * Only successful answers are kept: a request that failed before its effect
 * committed frees its key, so the client may retry it.
 *
 * The answer is written in the effect's own transaction (`IdempotentRequest`):
 * a first request that dies, or fails, after its effect committed leaves an
 * answer to replay, never a key that a retry could take over to create the
 * thing a second time.
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
/** How long a first request may run before a retry with its key may take over (it crashed before committing). */
export const defaultIdempotencyLeaseSeconds = 60;
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
  inFlightLeaseSeconds = defaultIdempotencyLeaseSeconds,
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
      // The first request died before its effect committed (its answer commits with it): this retry takes
      // the key over. Should the first still be running, whichever commits second rolls back (see answerIn).
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

/** Thrown in an effect's transaction when another request with the same key committed first: roll back and replay. */
export class IdempotencyKeyAnswered extends Error {
  override name = 'IdempotencyKeyAnswered';
}

/**
 * A creating request that came with an `Idempotency-Key`, as its handler sees
 * it: `answerIn` stores the answer in the transaction of the effect, so both
 * commit or neither does.
 */
export interface IdempotentRequest {
  /**
   * Stores `answer` as the key's answer in `trx`. Throws
   * IdempotencyKeyAnswered when another request with this key committed its
   * effect first (a retry that took over a slow first request): the
   * transaction must roll back, and that request's answer is replayed.
   *
   * @example
   * await db.transaction().execute(async (trx) => {
   *   const row = await insertWorkspace(trx, values);
   *   await idempotency?.answerIn(trx, { status: 201, body: toWorkspace(row) });
   * });
   */
  answerIn<DB extends IdempotencyDatabase>(trx: Transaction<DB>, answer: { status: number; body?: unknown; headers?: Record<string, string> }): Promise<void>;
}

/** The `IdempotentRequest` of a claimed key; `answered()` says whether its handler stored an answer. */
export function idempotentRequest(entry: { scope: string; operation: string; key: string; requestHash: string }): IdempotentRequest & { answered(): boolean } {
  let answered = false;
  return {
    answered: () => answered,
    async answerIn(trx, answer) {
      const db = trx as unknown as Transaction<IdempotencyDatabase>;
      const response = JSON.stringify({ headers: answer.headers ?? {}, body: answer.body });
      // An upsert: the claim may have been freed (a retry took it over and failed) since it was made.
      // Only a key still in flight for this very request takes the answer; otherwise the row lock waits
      // for the request that answered first, and this effect rolls back.
      const stored = await db
        .insertInto('idempotency_keys')
        .values({ scope: entry.scope, operation: entry.operation, key: entry.key, request_hash: entry.requestHash, status: answer.status, response, locked_until: sql<Date>`now()` })
        .onConflict((conflict) =>
          conflict
            .columns(['scope', 'operation', 'key'])
            .doUpdateSet({ status: answer.status, response })
            .where('idempotency_keys.status', 'is', null)
            .where('idempotency_keys.request_hash', '=', entry.requestHash),
        )
        .returning('key')
        .executeTakeFirst();
      if (!stored) throw new IdempotencyKeyAnswered(`Idempotency-Key ${entry.key} was answered by another request`);
      answered = true;
    },
  };
}

/** The stored answer of a key, if it has one: what a request that lost the race replays. */
export async function findIdempotentAnswer(
  db: Kysely<IdempotencyDatabase>,
  entry: { scope: string; operation: string; key: string; requestHash: string },
): Promise<{ status: number; answer: StoredAnswer } | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['status', 'response'])
    .where('scope', '=', entry.scope)
    .where('operation', '=', entry.operation)
    .where('key', '=', entry.key)
    .where('request_hash', '=', entry.requestHash)
    .executeTakeFirst();
  return row && row.status !== null && row.response ? { status: row.status, answer: row.response } : undefined;
}

/**
 * Keeps the answer of a claimed key for replay: once the handler answered
 * (replacing the answer it stored in its transaction by the final one, such
 * as a role granted since), or for an operation whose effect is not one
 * transaction of this service's.
 */
export async function completeIdempotencyKey(
  db: Kysely<IdempotencyDatabase>,
  entry: { scope: string; operation: string; key: string; requestHash: string },
  status: number,
  answer: StoredAnswer,
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status, response: JSON.stringify(answer) })
    .where('scope', '=', entry.scope)
    .where('operation', '=', entry.operation)
    .where('key', '=', entry.key)
    .where('request_hash', '=', entry.requestHash)
    .execute();
}

/** Frees a claimed key whose request failed, so that the client may retry with it. */
export async function releaseIdempotencyKey(db: Kysely<IdempotencyDatabase>, entry: { scope: string; operation: string; key: string }): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('scope', '=', entry.scope).where('operation', '=', entry.operation).where('key', '=', entry.key).where('status', 'is', null).execute();
}

/** Forgets keys past their 24 hours; each service's worker runs it with its inbox pruning. */
export async function pruneIdempotencyKeys<DB extends IdempotencyDatabase>(database: Kysely<DB>): Promise<number> {
  const db = database as unknown as Kysely<IdempotencyDatabase>;
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', sql<Date>`now() - make_interval(hours => ${idempotencyKeyHours})`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
