import { sql, type ColumnType, type Generated, type Kysely, type Transaction } from 'kysely';
import type { Queue } from 'bullmq';
import type { JobName, JobPayload, QueueName } from '@hexa/contract';
import type { Metrics } from './metrics.js';

/**
 * The transactional outbox: a job is written in the same transaction as the
 * change that causes it, and a relay delivers it to BullMQ afterwards. Redis
 * may lose everything — the relay notices a delivered job that vanished
 * before completing and delivers it again (handlers are idempotent).
 */
export interface OutboxTable {
  id: Generated<string>;
  queue: string;
  job_name: string;
  /** Deterministic BullMQ job id (unique per queue; no `:`): a re-delivery of the same row is deduplicated. */
  job_id: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  published_at: Date | null;
  confirmed_at: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface OutboxDatabase {
  outbox: OutboxTable;
}

/** The outbox table, for a service's first migration. */
export async function createOutboxTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('queue', 'text', (column) => column.notNull())
    .addColumn('job_name', 'text', (column) => column.notNull())
    .addColumn('job_id', 'text', (column) => column.notNull())
    .addColumn('payload', 'jsonb', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addUniqueConstraint('outbox_queue_job_id', ['queue', 'job_id'])
    .execute();
  await db.schema.createIndex('outbox_unconfirmed').on('outbox').column('id').where(sql.ref('confirmed_at'), 'is', null).execute();
}

/**
 * Records a job in the caller's transaction. Nothing reaches Redis until the
 * transaction commits and the relay runs.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('workspaces').values(row).execute();
 *   await enqueueJob(trx, 'databases', 'workspace.created', { workspaceId, slug }, `workspace.created:${workspaceId}`);
 * });
 */
export async function enqueueJob<DB extends OutboxDatabase, Q extends QueueName, N extends JobName<Q>>(
  db: Kysely<DB> | Transaction<DB>,
  queue: Q,
  name: N,
  payload: JobPayload<Q, N>,
  jobId: string,
): Promise<void> {
  await (db as unknown as Kysely<OutboxDatabase>)
    .insertInto('outbox')
    .values({ queue, job_name: name, job_id: jobId, payload: JSON.stringify(payload), published_at: null, confirmed_at: null, last_error: null })
    .onConflict((conflict) => conflict.columns(['queue', 'job_id']).doNothing())
    .execute();
}

/** Rows handled per pass; a backlog drains over several passes. */
const batchSize = 100;
/** A delivered job is looked for in Redis only after this long, giving workers time to take it. */
const verifyAfterMs = 2000;

export interface RelayPass { published: number; confirmed: number; redelivered: number }

export class OutboxRelay<DB extends OutboxDatabase = OutboxDatabase> {
  private readonly db: Kysely<OutboxDatabase>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    db: Kysely<DB>,
    private readonly queues: Partial<Record<QueueName, Queue>>,
    private readonly options: { verifyAfterMs?: number; onError?: (error: unknown) => void } = {},
  ) {
    this.db = db as unknown as Kysely<OutboxDatabase>;
  }

  /** One pass: deliver what is pending, then check what was delivered. */
  async runOnce(): Promise<RelayPass> {
    const published = await this.publishPending();
    const { confirmed, redelivered } = await this.verifyPublished();
    return { published, confirmed, redelivered };
  }

  private queueOf(name: string): Queue {
    const queue = this.queues[name as QueueName];
    if (!queue) throw new Error(`Outbox row for unknown queue ${name}`);
    return queue;
  }

  private async publishPending(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('outbox')
        .selectAll()
        .where('published_at', 'is', null)
        .where('confirmed_at', 'is', null)
        .orderBy('id')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        try {
          await this.queueOf(row.queue).add(row.job_name, row.payload, { jobId: row.job_id });
          await trx.updateTable('outbox').set({ published_at: new Date(), last_error: null }).where('id', '=', row.id).execute();
        } catch (error) {
          await trx
            .updateTable('outbox')
            .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: String((error as Error).message).slice(0, 500) }))
            .where('id', '=', row.id)
            .execute();
          throw error;
        }
      }
      return rows.length;
    });
  }

  private async verifyPublished(): Promise<{ confirmed: number; redelivered: number }> {
    const cutoff = new Date(Date.now() - (this.options.verifyAfterMs ?? verifyAfterMs));
    const rows = await this.db
      .selectFrom('outbox')
      .select(['id', 'queue', 'job_id'])
      .where('confirmed_at', 'is', null)
      .where('published_at', '<=', cutoff)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    let confirmed = 0;
    let redelivered = 0;
    for (const row of rows) {
      const state = await this.queueOf(row.queue).getJobState(row.job_id);
      if (state === 'completed') {
        await this.db.updateTable('outbox').set({ confirmed_at: new Date() }).where('id', '=', row.id).execute();
        confirmed += 1;
      } else if (state === 'unknown') {
        // Redis lost the job (or removed it after completion): deliver again; handlers are idempotent.
        await this.db.updateTable('outbox').set({ published_at: null }).where('id', '=', row.id).execute();
        redelivered += 1;
      }
    }
    return { confirmed, redelivered };
  }

  /** Runs a pass every `intervalMs` until stopped; a failing pass is reported and retried. */
  start(intervalMs: number): void {
    const tick = async () => {
      this.running = this.runOnce().catch((error) => this.options.onError?.(error));
      await this.running;
      if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** Exposes the outbox's lag (age of the oldest undelivered job) and backlog to Prometheus. */
export function registerOutboxMetrics<DB extends OutboxDatabase>(metrics: Metrics, database: Kysely<DB>): void {
  const db = database as unknown as Kysely<OutboxDatabase>;
  metrics.gauge('hexa_outbox_lag_seconds', 'Age of the oldest outbox job not yet delivered to the queue.', [], async (set) => {
    const row = await db.selectFrom('outbox').select((eb) => eb.fn.min('created_at').as('oldest')).where('published_at', 'is', null).where('confirmed_at', 'is', null).executeTakeFirst();
    const oldest = row?.oldest ? new Date(row.oldest as Date).getTime() : Date.now();
    set({} as Record<never, string>, Math.max(0, (Date.now() - oldest) / 1000));
  });
  metrics.gauge('hexa_outbox_pending_jobs', 'Outbox jobs not yet delivered to the queue.', [], async (set) => {
    const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('count')).where('published_at', 'is', null).where('confirmed_at', 'is', null).executeTakeFirst();
    set({} as Record<never, string>, Number(row?.count ?? 0));
  });
}

/** Exposes each queue's job counts by state to Prometheus. */
export function registerQueueMetrics(metrics: Metrics, queues: Queue[]): void {
  metrics.gauge('hexa_queue_jobs', 'Jobs in each queue by state.', ['queue', 'state'], async (set) => {
    for (const queue of queues) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      for (const [state, count] of Object.entries(counts)) set({ queue: queue.name, state }, count);
    }
  });
}
