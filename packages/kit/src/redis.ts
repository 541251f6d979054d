import { Redis } from 'ioredis';
import { TimedOut } from './within.js';

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

/**
 * True when a Redis call failed because Redis is unreachable, did not
 * answer in time (ioredis's connection errors, a `within` timeout) or cannot
 * take any command now (loading its data, out of memory, a read-only
 * replica, busy with a script), as opposed to Redis refusing that one command.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof TimedOut) return true;
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code)) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof message !== 'string') return false;
  return (
    /Connection is closed|Stream isn't writeable|connect E[A-Z]+|Command timed out/.test(message) ||
    // Redis's own errors that concern the server's state, not the command (each reply starts with its code).
    /^(LOADING|OOM|READONLY|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\b/.test(message)
  );
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
