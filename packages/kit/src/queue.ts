import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions, type ConnectionOptions } from 'bullmq';
import { listJobs, queueNames, type JobContract, type JobName, type JobPayload, type QueueName } from '@hexa/contract';
import { AppError } from './errors.js';
import { compileSchema, fieldErrors } from './http.js';

/**
 * Backoff before a job's next attempt: doubling from a second, never more than
 * a minute (with a fifth of jitter, so that jobs failed together do not come
 * back together). Plain exponential backoff grows to a quarter of an hour by
 * the tenth attempt: a job that failed while a dependency was busy would then
 * wait long after it recovered.
 */
export function cappedBackoffMs(attemptsMade: number, random: () => number = Math.random): number {
  const delay = Math.min(60_000, 1000 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(delay * (0.8 + 0.2 * random()));
}

/** Retries with capped backoff, for about an hour: a dependency that is down for minutes does not lose the job. */
export const defaultJobOptions: JobsOptions = {
  attempts: 64,
  backoff: { type: 'capped' },
  // Kept for a day so the outbox relay can see that a job completed; bounded either way.
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

/**
 * How long the mark a worker leaves on each job it ended (completed, or failed
 * for good) is kept. BullMQ evicts finished jobs by count (above), possibly
 * before the outbox relay looked for them: the mark tells the relay that a job
 * gone from every state ended (and, if it failed, is final) rather than was
 * lost. A day: a row left unverified for longer means its relay was down, and
 * it is sent again (consumers are idempotent).
 */
export const doneMarkSeconds = 24 * 3600;

/** The key of a job's done mark, beside BullMQ's keys of its queue (a job id holds no `:`: it is no job's key). */
export function doneMarkKey(queue: { toKey(type: string): string }, jobId: string): string {
  return queue.toKey(`done:${jobId}`);
}

/**
 * Why BullMQ would refuse `jobId` (it takes no `:` and no integer), or
 * undefined when it is a valid custom id.
 */
export function jobIdProblem(jobId: string): string | undefined {
  if (jobId.length === 0 || jobId.length > 255) return 'a job id has 1 to 255 characters';
  if (jobId.includes(':')) return 'a job id cannot contain ":"';
  if (String(Number.parseInt(jobId, 10)) === jobId) return 'a job id cannot be an integer';
  return undefined;
}

export interface QueueOptions {
  connection: ConnectionOptions;
  prefix: string;
}

/**
 * A producer for one queue of the job contract.
 *
 * @example
 * const queue = createQueue('databases', { connection: redis, prefix: 'hexa' });
 */
export function createQueue<Q extends QueueName>(name: Q, options: QueueOptions): Queue {
  const queue = new Queue(name, { connection: options.connection, prefix: options.prefix, defaultJobOptions });
  queue.on('error', () => undefined);
  return queue;
}

/**
 * A producer for every queue of the job contract: what an outbox relay delivers to.
 *
 * @example
 * const queues = createQueues({ connection: redis, prefix: 'hexa' });
 */
export function createQueues(options: QueueOptions): Record<QueueName, Queue> {
  return Object.fromEntries(queueNames.map((name) => [name, createQueue(name, options)])) as Record<QueueName, Queue>;
}

export type Processors<Q extends QueueName> = {
  [N in JobName<Q>]: (payload: JobPayload<Q, N>, job: Job, signal?: AbortSignal) => Promise<void>;
};

/**
 * True when retrying cannot help: the service refused the job itself (a 4xx
 * AppError such as a user that does not exist), as opposed to a dependency
 * being down or busy.
 */
export function isPermanentFailure(error: unknown): boolean {
  return error instanceof AppError && error.status >= 400 && error.status < 500 && error.code !== 'too_many_requests';
}

/**
 * A worker for one queue; each job name has its processor, a thin adapter
 * over a service function that is safe to retry. A permanent failure fails
 * the job at once instead of spending its retries.
 */
export function createWorker<Q extends QueueName>(
  name: Q,
  processors: Processors<Q>,
  options: QueueOptions & {
    concurrency?: number;
    /** How long a job stays locked to its worker without a renewal; a worker that died loses it after this (BullMQ's default: 30 s). */
    lockDuration?: number;
    /** How often the worker looks for jobs whose worker died, to take them over (BullMQ's default: 30 s). */
    stalledInterval?: number;
  },
): Worker {
  const byName = processors as unknown as Record<string, (payload: unknown, job: Job, signal?: AbortSignal) => Promise<void>>;
  const validators = new Map(listJobs().filter((job) => job.queue === name).map((job) => [job.name, compileSchema(job.schema)]));
  const worker = new Worker(
    name,
    async (job, _token, signal) => {
      // Left once the job has ended, just before BullMQ records it: a job that ended is final for the relay,
      // even once BullMQ evicts it; one Redis loses before it ended is sent again.
      const markDone = async () => {
        if (job.id) await (await worker.client).set(doneMarkKey(worker, job.id), '1', { EX: doneMarkSeconds });
      };
      const failForGood = async (reason: string): Promise<never> => {
        await markDone();
        throw new UnrecoverableError(reason);
      };
      // Redis lost this job's data but not its id in a list: BullMQ rebuilt a job with no name and no data. It is
      // not the job that was sent, so it is not marked done: the outbox relay sees the husk and sends the job again.
      if (typeof job.name !== 'string') throw new UnrecoverableError(`Job ${job.id ?? ''} lost its data in Redis; its outbox sends it again.`);
      const processor = byName[job.name];
      const validate = validators.get(job.name);
      // Neither can be fixed by retrying: the job is refused for good, with the reason.
      if (!processor || !validate) return failForGood(`The ${name} queue has no job named ${JSON.stringify(job.name)}.`);
      if (!validate(job.data)) {
        const problems = fieldErrors(validate.errors ?? [], 'payload').map((error) => `${error.field}: ${error.message}`);
        return failForGood(`Invalid ${job.name} payload: ${problems.join('; ')}`);
      }
      try {
        await processor(job.data, job, signal);
      } catch (error) {
        if (isPermanentFailure(error)) return failForGood(`${(error as AppError).code}: ${(error as AppError).message}`);
        // A processor's own UnrecoverableError, and the last attempt's failure, are final too (BullMQ counts
        // this attempt once it has failed).
        if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) await markDone();
        throw error;
      }
      await markDone();
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 4,
      settings: { backoffStrategy: (attemptsMade: number) => cappedBackoffMs(attemptsMade) },
      ...(options.lockDuration !== undefined ? { lockDuration: options.lockDuration } : {}),
      ...(options.stalledInterval !== undefined ? { stalledInterval: options.stalledInterval } : {}),
    },
  );
  worker.on('error', () => undefined);
  return worker;
}

export type { JobContract };
