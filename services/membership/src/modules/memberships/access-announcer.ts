import type { Redis } from 'ioredis';
import { accessChangedChannel } from '@hexa/kit';

/**
 * Tells gateways to forget what they cached about a user (roles, personal
 * access tokens). Best effort: a lost announcement is covered by the caches'
 * own short lifetime.
 */
export function createAccessAnnouncer(deps: { redis: Redis; queuePrefix: string }): (userId: string) => Promise<void> {
  const channel = accessChangedChannel(deps.queuePrefix);
  return async (userId) => {
    try {
      await deps.redis.publish(channel, userId);
    } catch {
      // Redis is down: gateway caches expire within their short lifetime.
    }
  };
}
