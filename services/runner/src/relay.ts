import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { createQueues, OutboxRelay } from '@hexa/kit';
import type { RunnerDatabase } from './database.js';

/** The relay that delivers this service's outbox (status reports, audit entries, its own jobs) to BullMQ. */
export function createRunnerRelay(deps: {
  db: Kysely<RunnerDatabase>;
  redis: Redis;
  prefix: string;
  onError?: (error: unknown) => void;
  verifyAfterMs?: number;
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
