import { Redis } from 'ioredis';
import { accessChangedChannel, createRedis } from '@hexa/kit';
import { eventually, subscribed, testRedisUrl, uniqueQueuePrefix } from '@hexa/testing';
import type { Schemas } from '@hexa/contract';
import { AccessCache } from '../src/access-cache.js';

type Access = Schemas['Access'];

const memberAccess: Access = { organizationRole: 'MEMBER', adminSomewhere: false, workspaceRole: 'VIEWER', workspaceArchived: false };
const prefix = uniqueQueuePrefix();
let subscriber: Redis;
let publisher: Redis;

beforeEach(async () => {
  subscriber = createRedis(testRedisUrl, 'subscriber');
  publisher = new Redis(testRedisUrl);
});
afterEach(() => {
  subscriber.disconnect();
  publisher.disconnect();
});

/** Puts an answer in the cache the way the gateway does: through a lookup. */
async function store(cache: AccessCache, userId: string, slug: string | undefined): Promise<void> {
  await cache.resolve(userId, slug, async () => memberAccess);
}

/** Resolves once the subscriber is connected and subscribed to the channel. */
async function listening(cache: AccessCache): Promise<void> {
  cache.listen(subscriber, prefix);
  await subscribed(accessChangedChannel(prefix));
}

describe('when membership announces that a user\'s access changed', () => {
  it('forgets that user\'s entries and keeps everyone else\'s', async () => {
    const cache = new AccessCache({ ttlMs: 60_000, maxEntries: 1000 });
    await listening(cache);
    await store(cache, 'user-a', 'malaria');
    await store(cache, 'user-a', undefined);
    await store(cache, 'user-b', 'malaria');

    await publisher.publish(accessChangedChannel(prefix), 'user-a');
    await eventually(async () => (cache.get('user-a', 'malaria') === undefined ? true : undefined));
    expect(cache.get('user-a', undefined)).toBeUndefined();
    expect(cache.get('user-b', 'malaria')).toEqual(memberAccess);
  });

  it('ignores announcements of another platform sharing the Redis', async () => {
    const cache = new AccessCache({ ttlMs: 60_000, maxEntries: 1000 });
    await listening(cache);
    await store(cache, 'user-a', 'malaria');
    const other = accessChangedChannel(uniqueQueuePrefix());
    await publisher.publish(other, 'user-a');
    // An announcement on our channel, sent after the other one, proves the other was received and ignored.
    await store(cache, 'user-c', 'malaria');
    await publisher.publish(accessChangedChannel(prefix), 'user-c');
    await eventually(async () => (cache.get('user-c', 'malaria') === undefined ? true : undefined));
    expect(cache.get('user-a', 'malaria')).toEqual(memberAccess);
  });
});

describe('when the subscription to announcements is lost and comes back', () => {
  it('starts from an empty cache, since announcements sent meanwhile are gone, and listens again', async () => {
    const cache = new AccessCache({ ttlMs: 60_000, maxEntries: 1000 });
    await listening(cache);
    await store(cache, 'user-a', 'malaria');

    subscriber.disconnect(true); // drop the connection; ioredis reconnects and subscribes again
    await eventually(async () => (cache.get('user-a', 'malaria') === undefined ? true : undefined));

    await subscribed(accessChangedChannel(prefix));
    await store(cache, 'user-b', 'malaria');
    await publisher.publish(accessChangedChannel(prefix), 'user-b');
    await eventually(async () => (cache.get('user-b', 'malaria') === undefined ? true : undefined));
  });
});

describe('when an entry is older than the time to live', () => {
  it('is no longer answered; a time to live of 0 caches nothing', async () => {
    const short = new AccessCache({ ttlMs: 20, maxEntries: 1000 });
    await store(short, 'user-a', 'malaria');
    expect(short.get('user-a', 'malaria')).toEqual(memberAccess);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(short.get('user-a', 'malaria')).toBeUndefined();

    const none = new AccessCache({ ttlMs: 0, maxEntries: 1000 });
    await store(none, 'user-a', 'malaria');
    expect(none.get('user-a', 'malaria')).toBeUndefined();
  });
});

describe('when one user asks for more workspaces than the cache may hold', () => {
  it('keeps at most the configured number of answers, the most recent ones', async () => {
    const cache = new AccessCache({ ttlMs: 60_000, maxEntries: 100 });
    for (let index = 0; index < 1_000; index += 1) await store(cache, 'user-a', `random-${index}`);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(cache.get('user-a', 'random-999')).toEqual(memberAccess);
    expect(cache.get('user-a', 'random-0')).toBeUndefined();
  });
});

describe('when an announcement arrives while membership\'s answer is on its way', () => {
  const viewer: Access = { organizationRole: 'MEMBER', adminSomewhere: false, workspaceRole: 'VIEWER', workspaceArchived: false };

  /** A lookup whose answer the test releases when it chooses, counting how often it is asked. */
  function heldLookup() {
    const held = { calls: 0, release: (_access: Access) => {} };
    const lookup = () => {
      held.calls += 1;
      return new Promise<Access>((resolve) => {
        held.release = resolve;
      });
    };
    return { held, lookup };
  }

  it('answers the request in flight but does not cache the answer: the next request asks membership again', async () => {
    const cache = new AccessCache({ ttlMs: 60_000, maxEntries: 1000 });
    await listening(cache);
    await store(cache, 'user-a', 'other-place'); // its disappearance shows that the announcement arrived

    const { held, lookup } = heldLookup();
    const inFlight = cache.resolve('user-a', 'malaria', lookup);
    await publisher.publish(accessChangedChannel(prefix), 'user-a');
    await eventually(async () => (cache.get('user-a', 'other-place') === undefined ? true : undefined));
    held.release(viewer); // the role membership read before the change
    await expect(inFlight).resolves.toEqual(viewer);

    expect(cache.get('user-a', 'malaria')).toBeUndefined();
    const next = heldLookup();
    const again = cache.resolve('user-a', 'malaria', next.lookup);
    expect(next.held.calls).toBe(1);
    next.held.release(memberAccess);
    await expect(again).resolves.toEqual(memberAccess);
  });

  it('does not cache an answer fetched across a reconnection either (announcements may have been lost)', async () => {
    const cache = new AccessCache({ ttlMs: 60_000, maxEntries: 1000 });
    await listening(cache);
    await store(cache, 'user-b', 'other-place');

    const { held, lookup } = heldLookup();
    const inFlight = cache.resolve('user-a', 'malaria', lookup);
    subscriber.disconnect(true);
    await eventually(async () => (cache.get('user-b', 'other-place') === undefined ? true : undefined));
    held.release(viewer);
    await inFlight;
    expect(cache.get('user-a', 'malaria')).toBeUndefined();
  });

  it('caches an answer when nothing was announced meanwhile (membership is asked once)', async () => {
    const cache = new AccessCache({ ttlMs: 60_000, maxEntries: 1000 });
    const { held, lookup } = heldLookup();
    const first = cache.resolve('user-a', 'malaria', lookup);
    held.release(viewer);
    await first;
    await expect(cache.resolve('user-a', 'malaria', lookup)).resolves.toEqual(viewer);
    expect(held.calls).toBe(1);
  });
});
