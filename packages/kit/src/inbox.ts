import { sql, type Generated, type Kysely, type Transaction } from 'kysely';
import type { Job } from 'bullmq';

/**
 * The consumer's side of exactly-once: each processed job id is recorded in
 * the consumer's own schema, in the same transaction as the job's effect. A
 * job delivered again (the relay re-sends whenever it is unsure, BullMQ
 * retries after a crash) finds its id and changes nothing.
 */
export interface InboxTable {
  queue: string;
  job_id: string;
  job_name: string;
  processed_at: Generated<Date>;
}

export interface InboxDatabase {
  inbox: InboxTable;
}

/** The inbox table, for a consumer's migration (frozen: 2026-11-29). */
export async function createInboxTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inbox')
    .addColumn('queue', 'text', (column) => column.notNull())
    .addColumn('job_id', 'text', (column) => column.notNull())
    .addColumn('job_name', 'text', (column) => column.notNull())
    .addColumn('processed_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('inbox_pk', ['queue', 'job_id'])
    .execute();
  await db.schema.createIndex('inbox_processed_at').on('inbox').column('processed_at').execute();
}

/** What identifies a delivery: the queue and the deterministic job id the outbox gave it. */
export interface JobKey {
  queue: string;
  id: string;
  name: string;
}

export function jobKeyOf(job: Pick<Job, 'queueName' | 'id' | 'name'>): JobKey {
  if (!job.id) throw new Error(`A ${job.queueName} job without an id cannot be processed exactly once`);
  return { queue: job.queueName, id: job.id, name: job.name };
}

/**
 * Runs `effect` in a transaction that also records the job in the inbox;
 * a job already recorded is not run again.
 *
 * @example
 * const outcome = await processOnce(db, jobKeyOf(job), (trx) => grant(trx, payload));
 * if (!outcome.duplicate) announce(outcome.result);
 */
export async function processOnce<DB extends InboxDatabase, T>(
  database: Kysely<DB>,
  job: JobKey,
  effect: (trx: Transaction<DB>) => Promise<T>,
): Promise<{ duplicate: true } | { duplicate: false; result: T }> {
  return database.transaction().execute(async (trx) => {
    const recorded = await (trx as unknown as Transaction<InboxDatabase>)
      .insertInto('inbox')
      .values({ queue: job.queue, job_id: job.id, job_name: job.name })
      .onConflict((conflict) => conflict.columns(['queue', 'job_id']).doNothing())
      .returning('job_id')
      .executeTakeFirst();
    if (!recorded) return { duplicate: true } as const;
    return { duplicate: false, result: await effect(trx) } as const;
  });
}

/** How long processed ids are remembered: far longer than any redelivery (BullMQ keeps failed jobs a week). */
export const inboxRetentionDays = 30;

/** Forgets processed ids older than the retention; run now and then by each consumer. */
export async function pruneInbox<DB extends InboxDatabase>(database: Kysely<DB>, retentionDays = inboxRetentionDays): Promise<number> {
  const result = await (database as unknown as Kysely<InboxDatabase>)
    .deleteFrom('inbox')
    .where('processed_at', '<', sql<Date>`now() - make_interval(days => ${retentionDays})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
