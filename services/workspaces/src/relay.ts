import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { OutboxRelay } from '@hexa/kit';
import type { WorkspacesDatabase } from './database.js';
import { createOutboxQueues } from './queues.js';

/** The relay that delivers this service's outbox to BullMQ. */
export function createWorkspacesRelay(deps: { db: Kysely<WorkspacesDatabase>; redis: Redis; prefix: string; onError?: (error: unknown) => void; verifyAfterMs?: number }) {
  const queues = createOutboxQueues(deps.redis, deps.prefix);
  const relay = new OutboxRelay(deps.db, queues, { ...(deps.onError ? { onError: deps.onError } : {}), ...(deps.verifyAfterMs !== undefined ? { verifyAfterMs: deps.verifyAfterMs } : {}) });
  return {
    relay,
    queues,
    async close() {
      await relay.stop();
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}
