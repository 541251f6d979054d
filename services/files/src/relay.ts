import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { createQueues, OutboxRelay } from '@hexa/kit';
import type { FilesDatabase } from './database.js';

/** The relay that delivers this service's outbox (audit entries) to BullMQ. */
export function createFilesRelay(deps: { db: Kysely<FilesDatabase>; redis: Redis; prefix: string; onError?: (error: unknown) => void }) {
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
