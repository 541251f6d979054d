import { Redis } from 'ioredis';

/**
 * A Redis connection. Producers and request paths fail fast when Redis is
 * down (no offline queue, one try); BullMQ workers and pub/sub subscribers
 * wait for Redis instead (`maxRetriesPerRequest: null`).
 */
export function createRedis(url: string, role: 'client' | 'worker' | 'subscriber' = 'client'): Redis {
  const redis = new Redis(url, role !== 'client'
    ? { maxRetriesPerRequest: null, lazyConnect: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, connectTimeout: 2000 });
  // Connection errors surface through the commands that fail; ioredis keeps reconnecting.
  redis.on('error', () => undefined);
  redis.connect().catch(() => undefined);
  return redis;
}

export async function pingRedis(redis: Redis): Promise<void> {
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`Redis answered ${answer}`);
}

/**
 * The channel on which membership announces that a user's access changed
 * (role granted, changed or removed); the gateway drops its cached access.
 */
export function accessChangedChannel(prefix: string): string {
  return `${prefix}:access-changed`;
}

/**
 * The answer header with which membership names the users whose access the
 * request changed (comma-separated ids). The gateway that relays the answer
 * forgets them before the client can send its next request, which the
 * channel alone cannot promise; other gateways hear the channel. It never
 * leaves the gateway.
 */
export const accessChangedHeader = 'hexa-access-changed';
