import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueName } from '@hexa/contract';
import { createQueue } from '@hexa/kit';

/** The queues this service's outbox delivers to. */
export function createOutboxQueues(connection: Redis, prefix: string): Record<Extract<QueueName, 'databases' | 'membership'>, Queue> {
  return {
    databases: createQueue('databases', { connection, prefix }),
    membership: createQueue('membership', { connection, prefix }),
  };
}
