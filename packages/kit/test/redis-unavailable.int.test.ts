import { randomUUID } from 'node:crypto';
import { testRedisUrl } from '@hexa/testing';
import { createRedis, isRedisUnavailable } from '../src/redis.js';
import { within } from '../src/within.js';

// What the outbox relay waits out (Redis is away) versus what it holds against one row (Redis refused it).
describe('when a Redis call fails', () => {
  it('counts an unreachable Redis and an unanswered call as unavailable', async () => {
    const down = createRedis('redis://127.0.0.1:1');
    try {
      const refused = await down.ping().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Error);
      expect(isRedisUnavailable(refused)).toBe(true);
    } finally {
      down.disconnect();
    }
    const unanswered = await within(10, new Promise(() => undefined)).catch((error: unknown) => error);
    expect(isRedisUnavailable(unanswered)).toBe(true);
  });

  it('counts a refusal of the command itself as the command\'s own failure', async () => {
    const redis = createRedis(testRedisUrl);
    const key = `hexa-test-${randomUUID()}`;
    // A client connection fails fast rather than queue commands: it is used once connected.
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    try {
      await redis.set(key, 'a string');
      const wrongType = await redis.hget(key, 'field').catch((error: unknown) => error);
      expect((wrongType as Error).message).toMatch(/^WRONGTYPE/);
      expect(isRedisUnavailable(wrongType)).toBe(false);
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });

  it('counts a server that cannot take commands now (loading, out of memory, read-only) as unavailable', () => {
    for (const reply of ['LOADING Redis is loading the dataset in memory', 'OOM command not allowed when used memory > \'maxmemory\'.', 'READONLY You can\'t write against a read only replica.']) {
      expect(isRedisUnavailable(new Error(reply))).toBe(true);
    }
  });
});
