import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { listJobs } from '@hexa/contract';
import { createDatabase, createOutboxRelay, createRedis, createWorker, enqueueJob, listDeadJobs, Metrics, migrateToLatest, registerOutboxMetrics, retryDeadJob, type Processors } from '@hexa/kit';
import { dropSchema, eventually, flushRedisPrefix, query, testDatabaseUrl, testRedisUrl, uniqueQueuePrefix, uniqueSchema } from '@hexa/testing';
import { workspacesMigrations, type WorkspacesDatabase } from '../src/index.js';

// The real relay of the workspaces service, on its own migrated schema and queue prefix, against real BullMQ.
let schema: string;
let prefix: string;
let db: Kysely<WorkspacesDatabase>;
let redis: Redis;
let outbox: ReturnType<typeof createOutboxRelay<WorkspacesDatabase>>;

beforeEach(async () => {
  schema = uniqueSchema('workspaces');
  prefix = uniqueQueuePrefix();
  db = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema });
  await migrateToLatest(db, schema, workspacesMigrations);
  redis = createRedis(testRedisUrl);
  outbox = createOutboxRelay({ db, redis, prefix, verifyAfterMs: 0, verifyBatchSize: 50 });
});
afterEach(async () => {
  await outbox.close();
  redis.disconnect();
  await db.destroy();
  await flushRedisPrefix(prefix);
  await dropSchema(schema);
});

const payload = () => ({ workspaceId: randomUUID(), slug: `ws-${randomUUID().slice(0, 8)}`, createdBy: randomUUID() });

async function rows(): Promise<{ id: string; queue: string; job_id: string; attempts: number; last_error: string | null; dead: boolean; published: boolean }[]> {
  return query(`select id::text, queue, job_id, attempts, last_error, dead_at is not null as dead, published_at is not null as published from "${schema}".outbox order by id`);
}

/** Makes every row due now, as if its backoff had passed. */
async function backoffElapses(): Promise<void> {
  await query(`update "${schema}".outbox set next_attempt_at = now()`);
}

/** A consumer that completes or fails jobs as told, like a real one. */
function consumer(queue: 'membership' | 'databases', outcome: (jobId: string) => 'complete' | 'fail'): { close(): Promise<void> } {
  const connection = createRedis(testRedisUrl, 'worker');
  const worker = new Worker(
    queue,
    async (job) => {
      if (outcome(job.id!) === 'fail') throw new UnrecoverableError('refused');
    },
    { connection, prefix },
  );
  worker.on('error', () => undefined);
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** The platform's own consumer (the kit's worker, which marks each job it takes), completing or failing jobs as told. */
function kitConsumer(outcome: (jobId: string) => 'complete' | 'fail' | 'hold', held?: Promise<void>): { close(): Promise<void> } {
  const connection = createRedis(testRedisUrl, 'worker');
  const run = async (_payload: unknown, job: { id?: string }) => {
    const decision = outcome(job.id!);
    if (decision === 'hold') await held;
    if (decision === 'fail') throw new UnrecoverableError('refused');
  };
  const processors = Object.fromEntries(listJobs().filter((job) => job.queue === 'membership').map((job) => [job.name, run])) as unknown as Processors<'membership'>;
  const worker = createWorker('membership', processors, { connection, prefix });
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

describe('when a row cannot be delivered', () => {
  it('records its attempt and error, delivers the good row behind it in the same pass, and after three attempts marks it dead with the reason', async () => {
    // A row written by a version that knew a queue this one does not, and one whose payload lost a field.
    await query(`insert into "${schema}".outbox (queue, job_name, job_id, payload) values ('nowhere', 'workspace.created', 'bad-queue', '{}')`);
    await query(`insert into "${schema}".outbox (queue, job_name, job_id, payload) values ('membership', 'workspace.created', 'bad-payload', $1)`, [JSON.stringify({ slug: 'no-ids' })]);
    const good = payload();
    await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', good, `workspace.created-${good.workspaceId}`));

    const first = await outbox.relay.runOnce();
    expect(first).toMatchObject({ published: 1, failed: 2, dead: 0 });
    expect(await outbox.queues.membership.getJobState(`workspace.created-${good.workspaceId}`)).toBe('waiting');
    const [badQueue, badPayload] = await rows();
    expect(badQueue).toMatchObject({ attempts: 1, dead: false, published: false, last_error: 'no queue nowhere in the job contract' });
    expect(badPayload).toMatchObject({ attempts: 1, dead: false, published: false });
    expect(badPayload!.last_error).toContain('invalid payload: payload/workspaceId: "workspaceId" is required');

    await backoffElapses();
    await outbox.relay.runOnce();
    await backoffElapses();
    expect(await outbox.relay.runOnce()).toMatchObject({ dead: 2 });
    expect((await rows()).filter((row) => row.dead).map((row) => [row.job_id, row.attempts])).toEqual([['bad-queue', 3], ['bad-payload', 3]]);

    // Dead rows are left alone, counted in the metrics, and listed for an operator, who can retry one.
    await backoffElapses();
    expect(await outbox.relay.runOnce()).toMatchObject({ failed: 0 });
    const metrics = new Metrics('workspaces');
    registerOutboxMetrics(metrics, db);
    expect(await metrics.registry.metrics()).toMatch(/^hexa_outbox_dead_jobs\{service="workspaces"\} 2$/m);
    const dead = await listDeadJobs(db);
    expect(dead.map((job) => [job.queue, job.jobId, job.attempts, job.lastError])).toEqual([
      ['nowhere', 'bad-queue', 3, 'no queue nowhere in the job contract'],
      ['membership', 'bad-payload', 3, expect.stringContaining('invalid payload')],
    ]);
    expect(await retryDeadJob(db, dead[0]!.id)).toBe(true);
    expect(await retryDeadJob(db, dead[0]!.id)).toBe(false);
    expect((await rows())[0]).toMatchObject({ job_id: 'bad-queue', dead: false, attempts: 0 });
  });
});

describe('when Redis refuses every job', () => {
  it('records the attempt on the row it was sending and stops the pass, keeping the rest due', async () => {
    for (let index = 0; index < 3; index += 1) {
      const job = payload();
      await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, `workspace.created-${job.workspaceId}`));
    }
    const down = createRedis('redis://127.0.0.1:1');
    const offline = createOutboxRelay({ db, redis: down, prefix });
    try {
      expect(await offline.relay.runOnce()).toMatchObject({ published: 0, failed: 1 });
    } finally {
      await offline.close();
      down.disconnect();
    }
    const [first, ...rest] = await rows();
    expect(first).toMatchObject({ attempts: 1, dead: false });
    expect(first!.last_error).not.toBeNull();
    expect(rest.map((row) => row.attempts)).toEqual([0, 0]);
    // Once Redis answers, the two untouched rows go at once; the one that failed waits for its backoff.
    expect(await outbox.relay.runOnce()).toMatchObject({ published: 2 });
  });
});

describe('when many published jobs never complete', () => {
  it('still finds, behind 150 of them, the one a consumer completed, and every row is checked in turn', async () => {
    for (let index = 0; index < 150; index += 1) {
      const job = payload();
      // The databases queue has no consumer here: these jobs wait forever.
      await db.transaction().execute((trx) => enqueueJob(trx, 'databases', 'workspace.created', job, `workspace.created-${job.workspaceId}`));
    }
    const done = payload();
    await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', done, `workspace.created-${done.workspaceId}`));
    expect(await outbox.relay.runOnce()).toMatchObject({ published: 151 });

    const worker = consumer('membership', () => 'complete');
    try {
      await eventually(async () => ((await outbox.queues.membership.getJobState(`workspace.created-${done.workspaceId}`)) === 'completed' ? true : undefined));
      // Fifty rows are checked per pass here: within four passes every row came round.
      let confirmed = 0;
      for (let pass = 0; pass < 4; pass += 1) confirmed += (await outbox.relay.runOnce()).confirmed;
      expect(confirmed).toBe(1);
      expect((await rows()).map((row) => row.job_id)).not.toContain(`workspace.created-${done.workspaceId}`);
      const unchecked = await query(`select count(*)::int as count from "${schema}".outbox where checked_at is null`);
      expect(unchecked).toEqual([{ count: 0 }]);
    } finally {
      await worker.close();
    }
  });
});

describe('when a consumer took a job and BullMQ later evicted it', () => {
  it('sends neither the completed nor the failed job again: a failed job is final', async () => {
    const completes = payload();
    const fails = payload();
    for (const job of [completes, fails]) {
      await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, `workspace.created-${job.workspaceId}`));
    }
    await outbox.relay.runOnce();
    const worker = consumer('membership', (jobId) => (jobId.endsWith(fails.workspaceId) ? 'fail' : 'complete'));
    try {
      await eventually(async () => {
        const states = await Promise.all([completes, fails].map((job) => outbox.queues.membership.getJobState(`workspace.created-${job.workspaceId}`)));
        return states.join() === 'completed,failed' ? true : undefined;
      });
    } finally {
      await worker.close();
    }
    expect(await outbox.relay.runOnce()).toMatchObject({ confirmed: 2 });
    expect(await rows()).toEqual([]);

    // A day (or a week) later BullMQ removes them.
    for (const job of [completes, fails]) await (await outbox.queues.membership.getJob(`workspace.created-${job.workspaceId}`))!.remove();
    expect(await outbox.relay.runOnce()).toEqual({ published: 0, failed: 0, dead: 0, confirmed: 0, redelivered: 0 });
    expect(await outbox.queues.membership.count()).toBe(0);
  });
});

describe('when BullMQ evicts a finished job before the relay verified it', () => {
  it('confirms the completed and the failed job from their workers\' marks and sends neither again: a failed job is final', async () => {
    const completes = payload();
    const fails = payload();
    const ids = [completes, fails].map((job) => `workspace.created-${job.workspaceId}`);
    for (const [index, job] of [completes, fails].entries()) {
      await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, ids[index]!));
    }
    // Published and seen waiting: the next verifying pass is the one after the consumer finished.
    expect(await outbox.relay.runOnce()).toMatchObject({ published: 2, confirmed: 0 });
    let runs = 0;
    const worker = kitConsumer((jobId) => {
      runs += 1;
      return jobId === ids[1] ? 'fail' : 'complete';
    });
    try {
      await eventually(async () => {
        const states = await Promise.all(ids.map((id) => outbox.queues.membership.getJobState(id)));
        return states.join() === 'completed,failed' ? true : undefined;
      });
      // BullMQ's count cap removes both before the relay's next pass.
      for (const id of ids) await (await outbox.queues.membership.getJob(id))!.remove();
      expect(await Promise.all(ids.map((id) => outbox.queues.membership.getJobState(id)))).toEqual(['unknown', 'unknown']);

      expect(await outbox.relay.runOnce()).toEqual({ published: 0, failed: 0, dead: 0, confirmed: 2, redelivered: 0 });
      expect(await rows()).toEqual([]);
      expect(await outbox.queues.membership.count()).toBe(0);
      expect(runs).toBe(2);
    } finally {
      await worker.close();
    }
  });
});

describe('when a consumer is still processing a job', () => {
  it('keeps the row until the job ended: a job Redis loses while it is processed is sent again and runs to its end', async () => {
    const job = payload();
    const jobId = `workspace.created-${job.workspaceId}`;
    await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, jobId));
    expect(await outbox.relay.runOnce()).toMatchObject({ published: 1, confirmed: 0 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const worker = kitConsumer(() => {
      runs += 1;
      return runs === 1 ? 'hold' : 'complete';
    }, held);
    try {
      await eventually(async () => ((await outbox.queues.membership.getJobState(jobId)) === 'active' ? true : undefined));
      // Being processed is not the end: the row stays.
      expect(await outbox.relay.runOnce()).toMatchObject({ confirmed: 0, redelivered: 0 });
      expect(await rows()).toMatchObject([{ job_id: jobId, published: true }]);

      // Redis loses the job (and its worker's lock) while it is processed: it is sent again.
      await flushRedisPrefix(prefix);
      expect(await outbox.relay.runOnce()).toMatchObject({ confirmed: 0, redelivered: 1 });
      // Sent again, another worker slot takes it while the first run is still held, and only its end confirms the row.
      await eventually(async () => {
        await outbox.relay.runOnce();
        return (await rows()).length === 0 ? true : undefined;
      });
      expect(await outbox.queues.membership.getJobState(jobId)).toBe('completed');
      expect(runs).toBe(2);
    } finally {
      release();
      await worker.close();
    }
  });
});

describe('when a row\'s job id is one BullMQ refuses', () => {
  it('records the failure on that row, delivers the rows behind it, and marks it dead after three attempts', async () => {
    // Rows written by code that did not check its ids: BullMQ takes no ":" and no integer.
    await query(`insert into "${schema}".outbox (queue, job_name, job_id, payload) values ('membership', 'workspace.created', 'has:colon', $1)`, [JSON.stringify(payload())]);
    await query(`insert into "${schema}".outbox (queue, job_name, job_id, payload) values ('membership', 'workspace.created', '42', $1)`, [JSON.stringify(payload())]);
    const good = payload();
    await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', good, `workspace.created-${good.workspaceId}`));

    expect(await outbox.relay.runOnce()).toMatchObject({ published: 1, failed: 2, dead: 0 });
    expect(await outbox.queues.membership.getJobState(`workspace.created-${good.workspaceId}`)).toBe('waiting');
    for (let attempt = 1; attempt < 3; attempt += 1) {
      await backoffElapses();
      expect(await outbox.relay.runOnce()).toMatchObject({ failed: 2, dead: attempt === 2 ? 2 : 0 });
    }
    expect((await rows()).filter((row) => row.dead).map((row) => [row.job_id, row.attempts, row.last_error])).toEqual([
      ['has:colon', 3, 'a job id cannot contain ":" ("has:colon")'],
      ['42', 3, 'a job id cannot be an integer ("42")'],
    ]);
    expect(await outbox.queues.membership.count()).toBe(1);
  });

  it('refuses to record such a job at all', async () => {
    const job = payload();
    await expect(db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, `workspace.created:${job.workspaceId}`))).rejects.toThrow(
      'a job id cannot contain ":"',
    );
    expect(await rows()).toEqual([]);
  });
});

describe('when Redis loses a job no consumer took yet', () => {
  it('sends it again with the same id', async () => {
    const job = payload();
    const jobId = `workspace.created-${job.workspaceId}`;
    await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, jobId));
    await outbox.relay.runOnce();
    await flushRedisPrefix(prefix);
    expect(await outbox.relay.runOnce()).toMatchObject({ redelivered: 1 });
    expect(await outbox.relay.runOnce()).toMatchObject({ published: 1 });
    expect((await outbox.queues.membership.getJob(jobId))?.data).toEqual(job);
  });
});

describe('when Redis loses a queue\'s lists but keeps a job\'s data (a partial loss)', () => {
  it('clears what is left of the job and sends it again, so that it waits for a consumer', async () => {
    const job = payload();
    const jobId = `workspace.created-${job.workspaceId}`;
    await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, jobId));
    await outbox.relay.runOnce();
    expect(await outbox.queues.membership.getJobState(jobId)).toBe('waiting');
    // The wait list and the marker go; the job's own hash stays.
    const keys = await redis.keys(`${prefix}:membership:*`);
    await redis.del(...keys.filter((key) => !key.endsWith(`:${jobId}`)));
    expect(await outbox.queues.membership.getJobState(jobId)).toBe('unknown');
    expect(await redis.exists(`${prefix}:membership:${jobId}`)).toBe(1);
    expect(await outbox.relay.runOnce()).toMatchObject({ redelivered: 1 });
    expect(await outbox.relay.runOnce()).toMatchObject({ published: 1 });
    expect(await outbox.queues.membership.getJobState(jobId)).toBe('waiting');
    expect((await outbox.queues.membership.getJob(jobId))?.data).toEqual(job);
  });
});

describe('when Redis loses a job\'s data but keeps its id in the wait list (a partial loss)', () => {
  it('does not run the husk a worker takes from the list, and sends the job again until a consumer runs it with its data', async () => {
    const job = payload();
    const jobId = `workspace.created-${job.workspaceId}`;
    await db.transaction().execute((trx) => enqueueJob(trx, 'membership', 'workspace.created', job, jobId));
    await outbox.relay.runOnce();
    // The job's hash goes; its id stays in the wait list, where a worker finds it.
    expect(await redis.del(`${prefix}:membership:${jobId}`)).toBe(1);
    expect(await outbox.queues.membership.getJobState(jobId)).toBe('waiting');

    const received: unknown[] = [];
    const connection = createRedis(testRedisUrl, 'worker');
    const processors = Object.fromEntries(
      listJobs()
        .filter((contract) => contract.queue === 'membership')
        .map((contract) => [contract.name, async (data: unknown) => void received.push(data)]),
    ) as unknown as Processors<'membership'>;
    const worker = createWorker('membership', processors, { connection, prefix });
    try {
      // The worker takes the husk (BullMQ rebuilds a job with no name and no data) and fails it, leaving no done mark.
      await eventually(async () => ((await outbox.queues.membership.getJobState(jobId)) === 'failed' ? true : undefined));
      expect(received).toEqual([]);
      expect(await redis.exists(`${prefix}:membership:done:${jobId}`)).toBe(0);

      // The relay does not take that failure for the job's end: it clears the husk and sends the job again.
      expect(await outbox.relay.runOnce()).toMatchObject({ confirmed: 0, redelivered: 1 });
      await eventually(async () => {
        await outbox.relay.runOnce();
        return (await rows()).length === 0 ? true : undefined;
      });
      expect(received).toEqual([job]);
      expect(await outbox.queues.membership.getJobState(jobId)).toBe('completed');
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });
});

describe('when a service delivers the jobs it just committed at once', () => {
  it('publishes those and only those, and the passes verify them as any other', async () => {
    const [mine, other] = [payload(), payload()];
    const [mineId, otherId] = [`workspace.created-${mine.workspaceId}`, `workspace.created-${other.workspaceId}`];
    await db.transaction().execute(async (trx) => {
      await enqueueJob(trx, 'membership', 'workspace.created', mine, mineId);
      await enqueueJob(trx, 'membership', 'workspace.created', other, otherId);
    });
    await outbox.relay.deliverNow([{ queue: 'membership', jobId: mineId }]);
    expect((await outbox.queues.membership.getJob(mineId))?.data).toEqual(mine);
    expect(await outbox.queues.membership.getJob(otherId)).toBeUndefined();
    expect((await rows()).map((row) => [row.job_id, row.published])).toEqual([
      [mineId, true],
      [otherId, false],
    ]);
    // Delivered twice (a retried request, a pass meanwhile): the row is published once, the job exists once.
    await outbox.relay.deliverNow([{ queue: 'membership', jobId: mineId }]);
    expect(await outbox.relay.runOnce()).toMatchObject({ published: 1 });
    expect(await outbox.queues.membership.count()).toBe(2);
  });
});

describe('when an operator looks at dead jobs with the outbox command', () => {
  const repository = fileURLToPath(new URL('../../../', import.meta.url));
  const outboxCommand = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/outbox.ts', ...args], { cwd: repository, encoding: 'utf8', env: { PATH: process.env.PATH, DATABASE_URL: testDatabaseUrl, DATABASE_SCHEMA: schema } });

  it('lists each with its reason, and retries one by id', async () => {
    await query(`insert into "${schema}".outbox (queue, job_name, job_id, payload, attempts, last_error, dead_at) values ('nowhere', 'workspace.created', 'dead-one', '{}', 3, 'no queue nowhere in the job contract', now())`);
    const listed = outboxCommand('workspaces', 'dead');
    expect(listed.status).toBe(0);
    const [line, ...rest] = listed.stdout.trim().split('\n');
    expect(rest).toEqual([]);
    const job = JSON.parse(line!) as { id: string; queue: string; jobId: string; attempts: number; lastError: string };
    expect(job).toMatchObject({ queue: 'nowhere', jobId: 'dead-one', attempts: 3, lastError: 'no queue nowhere in the job contract' });

    const retried = outboxCommand('workspaces', 'retry', job.id);
    expect(retried.status).toBe(0);
    expect(await rows()).toEqual([expect.objectContaining({ job_id: 'dead-one', dead: false, attempts: 0 })]);
    expect(outboxCommand('workspaces', 'retry', job.id)).toMatchObject({ status: 1, stderr: `outbox: workspaces has no dead job ${job.id}\n` });
    expect(outboxCommand('gateway', 'dead')).toMatchObject({ status: 2 });
  });
});
