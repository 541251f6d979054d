import { sql, type ColumnType, type Generated, type Kysely, type Transaction } from 'kysely';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { listJobs, type JobName, type JobPayload, type QueueName } from '@hexa/contract';
import { compileSchema, fieldErrors } from './http.js';
import type { Metrics } from './metrics.js';
import { createQueues, doneMarkKey, jobIdProblem } from './queue.js';
import { repeat, type Repeating } from './repeat.js';
import { isRedisUnavailable } from './redis.js';
import { within } from './within.js';

/**
 * The transactional outbox: a job is written in the same transaction as the
 * change that causes it, and a relay delivers it to BullMQ afterwards.
 *
 * Delivery is at least once: the relay sends a row again whenever it cannot
 * be sure the consumer has it (Redis lost it, a pass crashed after sending);
 * consumers are idempotent (an inbox), so the effect happens once. A row is
 * deleted once its job has ended (completed, or failed for good: a failed job
 * is final and is never sent again); a job Redis loses while it waits, is
 * retried or is being processed is sent again. A row that can never be
 * delivered (unknown queue or job, invalid payload) is marked dead after a
 * few attempts, with its reason, for an operator to look at and retry.
 */
export interface OutboxTable {
  id: Generated<string>;
  queue: string;
  job_name: string;
  /** Deterministic BullMQ job id (unique per queue; no `:`): a re-delivery of the same row is deduplicated. */
  job_id: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  /** Set when the job reached its queue; cleared when the relay finds it lost. */
  published_at: Date | null;
  /** When the relay may next try to publish (backoff after a failure; a lease while a pass holds the row). */
  next_attempt_at: Generated<Date>;
  /** When the relay last found the published job still waiting: verification goes round-robin from the oldest check. */
  checked_at: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
  dead_at: Date | null;
}

export interface OutboxDatabase {
  outbox: OutboxTable;
}

/** The outbox table as it first shipped (frozen: the 2026-11-26 migrations call it). */
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
 * Second shape of the outbox (frozen, 2026-11-29): per-row backoff, round-robin
 * verification, dead rows; confirmed rows are deleted instead of kept.
 */
export async function upgradeOutboxTableToDeadLetters(db: Kysely<unknown>): Promise<void> {
  await sql`delete from outbox where confirmed_at is not null`.execute(db);
  await sql`drop index outbox_unconfirmed`.execute(db);
  await sql`alter table outbox drop column confirmed_at`.execute(db);
  await sql`alter table outbox add column next_attempt_at timestamptz not null default now()`.execute(db);
  await sql`alter table outbox add column checked_at timestamptz`.execute(db);
  await sql`alter table outbox add column dead_at timestamptz`.execute(db);
  await sql`create index outbox_pending on outbox (next_attempt_at, id) where published_at is null and dead_at is null`.execute(db);
  await sql`create index outbox_published on outbox (checked_at nulls first, id) where published_at is not null and dead_at is null`.execute(db);
  await sql`create index outbox_dead on outbox (id) where dead_at is not null`.execute(db);
}

/**
 * Records a job in the caller's transaction. Nothing reaches Redis until the
 * transaction commits and the relay runs.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('workspaces').values(row).execute();
 *   await enqueueJob(trx, 'databases', 'workspace.created', { workspaceId, slug, createdBy }, `workspace.created-${workspaceId}`);
 * });
 */
export async function enqueueJob<DB extends OutboxDatabase, Q extends QueueName, N extends JobName<Q>>(
  db: Kysely<DB> | Transaction<DB>,
  queue: Q,
  name: N,
  payload: JobPayload<Q, N>,
  jobId: string,
): Promise<void> {
  const problem = jobIdProblem(jobId);
  // A programming error: caught here, with the change it belongs to, rather than as a row that never goes out.
  if (problem) throw new Error(`${queue}/${name}: ${problem} (${JSON.stringify(jobId)})`);
  await (db as unknown as Kysely<OutboxDatabase>)
    .insertInto('outbox')
    .values({ queue, job_name: name, job_id: jobId, payload: JSON.stringify(payload), published_at: null, checked_at: null, last_error: null, dead_at: null })
    .onConflict((conflict) => conflict.columns(['queue', 'job_id']).doNothing())
    .execute();
}

let carriers: Map<string, QueueName[]> | undefined;
/** The queues whose job contract carries a job of this name (read once per process). */
function queuesCarrying(name: string): QueueName[] {
  carriers ??= listJobs().reduce((map, job) => map.set(job.name, [...(map.get(job.name) ?? []), job.queue as QueueName]), new Map<string, QueueName[]>());
  return carriers.get(name) ?? [];
}

type EventName = { [Q in QueueName]: JobName<Q> }[QueueName];
type EventPayload<N extends EventName> = { [Q in QueueName]: N extends JobName<Q> ? JobPayload<Q, N> : never }[QueueName];

/**
 * Records an event for every queue whose service consumes it (each queue of
 * the job contract that carries a job of that name), in the caller's
 * transaction: a service that starts consuming an event later only declares
 * it in the contract. Job ids are `<name>-<eventId>`.
 *
 * @example
 * await publishEvent(trx, 'workspace.archived', { workspaceId, slug, actorId }, workspaceId + '-' + archivedAt.getTime());
 */
export async function publishEvent<DB extends OutboxDatabase, N extends EventName>(
  db: Kysely<DB> | Transaction<DB>,
  name: N,
  payload: EventPayload<N>,
  eventId: string,
): Promise<QueueName[]> {
  const queues = queuesCarrying(name);
  for (const queue of queues) {
    await enqueueJob(db, queue, name as never, payload as never, `${name}-${eventId}`);
  }
  return queues;
}

/** Rows published per pass; a backlog drains over several passes. */
const publishBatchSize = 200;
/** Rows verified per pass; every published row comes round, oldest check first. */
const verifyBatchSize = 500;
/** A delivered job is looked for in Redis only after this long, giving workers time to take it. */
const defaultVerifyAfterMs = 2000;
/** A pass that dies while holding rows gives them back after this long. */
const claimLeaseSeconds = 30;
/** A row that cannot be delivered however often it is tried dies after this many attempts. */
const maxPermanentAttempts = 3;
/** A queue waits for Redis forever; the relay gives up on a call after this long and tries later. */
const redisCallTimeoutMs = 2000;
/** Backoff after a failed attempt: doubling from a second, at most a minute. */
const backoffSeconds = (attempts: number): number => Math.min(60, 2 ** Math.max(0, attempts - 1));

/** A reason a row can never be delivered as it is, however often it is tried. */
class UndeliverableJob extends Error {
  override name = 'UndeliverableJob';
}

export interface RelayPass {
  published: number;
  /** Attempts that failed (the row waits for its backoff). */
  failed: number;
  /** Rows that died in this pass. */
  dead: number;
  /** Rows whose job a consumer took: deleted. */
  confirmed: number;
  /** Rows whose job Redis lost: sent again on the next pass. */
  redelivered: number;
}

type OutboxRow = { id: string; queue: string; job_name: string; job_id: string; payload: unknown; attempts: number };

export class OutboxRelay<DB extends OutboxDatabase = OutboxDatabase> {
  private readonly db: Kysely<OutboxDatabase>;
  private readonly validators = new Map(listJobs().map((job) => [`${job.queue}/${job.name}`, compileSchema(job.schema)]));
  private loop: Repeating | undefined;

  constructor(
    db: Kysely<DB>,
    private readonly queues: Partial<Record<QueueName, Queue>>,
    private readonly options: { verifyAfterMs?: number; verifyBatchSize?: number; onError?: (error: unknown) => void } = {},
  ) {
    this.db = db as unknown as Kysely<OutboxDatabase>;
  }

  /** One pass: deliver what is due, then check what was delivered. */
  async runOnce(): Promise<RelayPass> {
    const { published, failed, dead } = await this.publishDue();
    const { confirmed, redelivered } = await this.verifyPublished();
    return { published, failed, dead, confirmed, redelivered };
  }

  /**
   * Publishes these jobs at once, right after the transaction that recorded
   * them committed, instead of at the relay's next pass: what a user waits
   * for (a run to start) need not wait for a polling interval. A job this
   * cannot publish (Redis away, another pass holding it) is left to the
   * passes, as any other row; the relay still verifies each one.
   *
   * @example
   * await db.transaction().execute((trx) => enqueueJob(trx, 'runner', 'run.requested', { runId }, jobId));
   * void relay.deliverNow([{ queue: 'runner', jobId }]);
   */
  async deliverNow(jobs: { queue: QueueName; jobId: string }[]): Promise<void> {
    if (jobs.length > 0) await this.publishDue(jobs);
  }

  /** Checks a row before it goes out; throws UndeliverableJob when no retry can help. */
  private queueFor(row: OutboxRow): Queue {
    const queue = this.queues[row.queue as QueueName];
    if (!queue) throw new UndeliverableJob(`no queue ${row.queue} in the job contract`);
    const idProblem = jobIdProblem(row.job_id);
    if (idProblem) throw new UndeliverableJob(`${idProblem} (${JSON.stringify(row.job_id)})`);
    const validate = this.validators.get(`${row.queue}/${row.job_name}`);
    if (!validate) throw new UndeliverableJob(`the ${row.queue} queue has no job ${row.job_name}`);
    if (!validate(row.payload)) {
      throw new UndeliverableJob(`invalid payload: ${fieldErrors(validate.errors ?? [], 'payload').map((error) => `${error.field}: ${error.message}`).join('; ')}`);
    }
    return queue;
  }

  /**
   * Claims due rows with a lease (committed at once, so no transaction spans
   * Redis calls), then sends each on its own: a row that fails records its
   * attempt and error and never holds back the rows behind it. When Redis
   * itself is unreachable, the pass stops there; the rest wait for the next
   * pass. Any other failure is the row's own (Redis refused that job): it
   * counts toward the row's death, as an undeliverable row does.
   */
  private async publishDue(only?: { queue: QueueName; jobId: string }[]): Promise<{ published: number; failed: number; dead: number }> {
    const chosen = only
      ? sql`and (queue, job_id) in (${sql.join(only.map((job) => sql`(${job.queue}, ${job.jobId})`))})`
      : sql``;
    const claimed = await sql<OutboxRow>`
      update outbox set next_attempt_at = now() + make_interval(secs => ${claimLeaseSeconds})
      where id in (
        select id from outbox
        where published_at is null and dead_at is null and next_attempt_at <= now() ${chosen}
        order by id limit ${publishBatchSize}
        for update skip locked)
      returning id, queue, job_name, job_id, payload, attempts`.execute(this.db);
    const rows = [...claimed.rows].sort((a, b) => Number(a.id) - Number(b.id));
    const published: string[] = [];
    let failed = 0;
    let dead = 0;
    for (const [index, row] of rows.entries()) {
      try {
        await within(redisCallTimeoutMs, this.queueFor(row).add(row.job_name, row.payload, { jobId: row.job_id }));
        published.push(row.id);
      } catch (error) {
        failed += 1;
        const outage = !(error instanceof UndeliverableJob) && isRedisUnavailable(error);
        const dies = !outage && row.attempts + 1 >= maxPermanentAttempts;
        if (dies) dead += 1;
        await this.recordFailure(row, error, dies);
        if (outage) {
          // Redis is failing: give the rows not tried yet back at once rather than after the lease.
          const untried = rows.slice(index + 1).map((next) => next.id);
          if (untried.length > 0) await this.db.updateTable('outbox').set({ next_attempt_at: new Date() }).where('id', 'in', untried).execute();
          break;
        }
      }
    }
    if (published.length > 0) {
      await this.db.updateTable('outbox').set({ published_at: new Date(), checked_at: null, last_error: null }).where('id', 'in', published).execute();
    }
    return { published: published.length, failed, dead };
  }

  private async recordFailure(row: OutboxRow, error: unknown, dies: boolean): Promise<void> {
    const attempts = row.attempts + 1;
    await this.db
      .updateTable('outbox')
      .set({
        attempts,
        last_error: String((error as Error).message ?? error).slice(0, 500),
        next_attempt_at: sql<Date>`now() + make_interval(secs => ${backoffSeconds(attempts)})`,
        ...(dies ? { dead_at: new Date() } : {}),
      })
      .where('id', '=', row.id)
      .execute();
  }

  /**
   * Looks for published jobs in Redis, the longest-unchecked first, so that
   * every row comes round however many jobs wait in front of it. A job that
   * ended (completed or failed, or marked done by its worker once BullMQ
   * evicted it) confirms its row; a job Redis lost, wholly or in part, is sent
   * again; any other
   * (waiting, delayed for a retry, being processed) is looked at again later.
   */
  private async verifyPublished(): Promise<{ confirmed: number; redelivered: number }> {
    const cutoff = new Date(Date.now() - (this.options.verifyAfterMs ?? defaultVerifyAfterMs));
    const rows = await this.db
      .selectFrom('outbox')
      .select(['id', 'queue', 'job_id'])
      .where('published_at', 'is not', null)
      .where('dead_at', 'is', null)
      .where('published_at', '<=', cutoff)
      .orderBy(sql`checked_at nulls first`)
      .orderBy('id')
      .limit(this.options.verifyBatchSize ?? verifyBatchSize)
      .execute();
    const states = await within(
      redisCallTimeoutMs,
      Promise.all(rows.map((row) => this.queues[row.queue as QueueName]?.getJobState(row.job_id) ?? Promise.resolve('unknown'))),
    );
    const ended: string[] = [];
    const lost: string[] = [];
    const waiting: string[] = [];
    const finished: typeof rows = [];
    const unknown: typeof rows = [];
    rows.forEach((row, index) => {
      const state = states[index];
      if (state === 'completed' || state === 'failed') finished.push(row);
      else if (state === 'unknown') unknown.push(row);
      else waiting.push(row.id);
    });
    const [finishedFates, unknownFates] = await within(
      redisCallTimeoutMs,
      Promise.all([Promise.all(finished.map((row) => this.fateOfFinished(row))), Promise.all(unknown.map((row) => this.fateOfStateless(row)))]),
    );
    finished.forEach((row, index) => ({ ended, lost, waiting })[finishedFates[index]!].push(row.id));
    unknown.forEach((row, index) => ({ ended, lost, waiting })[unknownFates[index]!].push(row.id));
    if (ended.length > 0) await this.db.deleteFrom('outbox').where('id', 'in', ended).execute();
    if (lost.length > 0) {
      await this.db.updateTable('outbox').set({ published_at: null, checked_at: null, next_attempt_at: new Date() }).where('id', 'in', lost).execute();
    }
    if (waiting.length > 0) await this.db.updateTable('outbox').set({ checked_at: new Date() }).where('id', 'in', waiting).execute();
    return { confirmed: ended.length, redelivered: lost.length };
  }

  /**
   * A job BullMQ holds as completed or failed ended, unless it is a husk: Redis
   * lost its data but not its id in a list (a partial loss), a worker took that
   * id, BullMQ rebuilt a job with no name and no data, and the worker failed it
   * without marking it done. The job that was sent never ran: the husk is
   * cleared and the job sent again.
   */
  private async fateOfFinished(row: { queue: string; job_id: string }): Promise<'ended' | 'lost' | 'waiting'> {
    const queue = this.queues[row.queue as QueueName]!;
    const client = await queue.client;
    const [mark, hasData] = await Promise.all([client.get(doneMarkKey(queue, row.job_id)), client.hexists(queue.toKey(row.job_id), 'name')]);
    if (mark !== null || hasData === 1) return 'ended';
    return (await queue.remove(row.job_id)) === 0 ? 'waiting' : 'lost';
  }

  /**
   * A job in no state either ended and was then evicted by BullMQ (its worker
   * marked it done: final, even when it failed), or Redis lost it: entirely
   * (sent again), or in part, its data left without its lists (a flush racing
   * a worker). Adding the same id again would then do nothing, so those
   * leftovers go first; a job whose worker still holds its lock (remove
   * answers 0) is being processed: looked at again later.
   */
  private async fateOfStateless(row: { queue: string; job_id: string }): Promise<'ended' | 'lost' | 'waiting'> {
    const queue = this.queues[row.queue as QueueName];
    if (!queue) return 'lost';
    const client = await queue.client;
    const [mark, leftover] = await Promise.all([client.get(doneMarkKey(queue, row.job_id)), client.hexists(queue.toKey(row.job_id), 'name')]);
    if (mark !== null) return 'ended';
    if (leftover === 0) return 'lost';
    return (await queue.remove(row.job_id)) === 0 ? 'waiting' : 'lost';
  }

  /** Runs a pass every `intervalMs` until stopped; a failing pass is reported and retried. */
  start(intervalMs: number): void {
    this.loop = repeat(() => this.runOnce(), { intervalMs, ...(this.options.onError ? { onError: this.options.onError } : {}) });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }
}

export interface DeadJob {
  id: string;
  queue: string;
  jobName: string;
  jobId: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deadAt: Date;
}

/** The rows the relay gave up on, oldest first: what an operator looks at. */
export async function listDeadJobs<DB extends OutboxDatabase>(database: Kysely<DB>): Promise<DeadJob[]> {
  const db = database as unknown as Kysely<OutboxDatabase>;
  const rows = await db.selectFrom('outbox').selectAll().where('dead_at', 'is not', null).orderBy('id').execute();
  return rows.map((row) => ({
    id: String(row.id),
    queue: row.queue,
    jobName: row.job_name,
    jobId: row.job_id,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    deadAt: row.dead_at!,
  }));
}

/** Gives a dead row a fresh start (after the cause was fixed); false when no dead row has that id. */
export async function retryDeadJob<DB extends OutboxDatabase>(database: Kysely<DB>, id: string): Promise<boolean> {
  const db = database as unknown as Kysely<OutboxDatabase>;
  if (!/^\d{1,18}$/.test(id)) return false;
  const result = await db
    .updateTable('outbox')
    .set({ dead_at: null, attempts: 0, next_attempt_at: new Date(), published_at: null, checked_at: null })
    .where('id', '=', id)
    .where('dead_at', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Exposes the outbox to Prometheus: jobs whose consumer has not finished them yet, the age
 * of the oldest of them, and dead jobs.
 */
export function registerOutboxMetrics<DB extends OutboxDatabase>(metrics: Metrics, database: Kysely<DB>): void {
  const db = database as unknown as Kysely<OutboxDatabase>;
  const none = {} as Record<never, string>;
  metrics.gauge('hexa_outbox_lag_seconds', 'Age of the oldest outbox job that no consumer has finished yet (0 when none).', [], async (set) => {
    const row = await db.selectFrom('outbox').select((eb) => eb.fn.min('created_at').as('oldest')).where('dead_at', 'is', null).executeTakeFirst();
    const oldest = row?.oldest ? new Date(row.oldest as Date).getTime() : Date.now();
    set(none, Math.max(0, (Date.now() - oldest) / 1000));
  });
  metrics.gauge('hexa_outbox_pending_jobs', 'Outbox jobs that no consumer has finished yet, by whether they reached the queue.', ['state'], async (set) => {
    const rows = await db
      .selectFrom('outbox')
      .select([sql<string>`case when published_at is null then 'unpublished' else 'published' end`.as('state'), (eb) => eb.fn.countAll<string>().as('count')])
      .where('dead_at', 'is', null)
      .groupBy(sql`1`)
      .execute();
    for (const state of ['unpublished', 'published']) set({ state }, Number(rows.find((row) => row.state === state)?.count ?? 0));
  });
  metrics.gauge('hexa_outbox_dead_jobs', 'Outbox jobs the relay gave up on (see the outbox CLI).', [], async (set) => {
    const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('count')).where('dead_at', 'is not', null).executeTakeFirst();
    set(none, Number(row?.count ?? 0));
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

/**
 * A service's outbox relay with producers for every queue of the job
 * contract: what each worker runs (`relay.start(intervalMs)`), and what
 * tests drive one pass at a time (`relay.runOnce()`). `close` stops the
 * relay, then its queues.
 *
 * @example
 * const outbox = createOutboxRelay({ db, redis, prefix: config.HEXA_QUEUE_PREFIX, onError: (error) => log.warn({ err: error }, 'outbox pass failed') });
 * outbox.relay.start(config.OUTBOX_RELAY_INTERVAL_MS);
 * await outbox.close();
 */
export function createOutboxRelay<DB extends OutboxDatabase>(deps: {
  db: Kysely<DB>;
  redis: Redis;
  prefix: string;
  onError?: (error: unknown) => void;
  verifyAfterMs?: number;
  verifyBatchSize?: number;
}) {
  const { db, redis, prefix, ...options } = deps;
  const queues = createQueues({ connection: redis, prefix });
  const relay = new OutboxRelay(db, queues, options);
  return {
    relay,
    queues,
    async close() {
      await relay.stop();
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}
