import { Redis } from 'ioredis';
import { accessChangedChannel, createRedis } from '@hexa/kit';
import { eventually, subscribed, testRedisUrl, uniqueQueuePrefix } from '@hexa/testing';
import type { Schemas } from '@hexa/contract';
import { AccessCache } from '../src/access-cache.js';

type Access = Schemas['Access'];

const memberAccess: Access = { organizationRole: 'MEMBER', adminSomewhere: false, workspaceRole: 'VIEWER' };
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

/** Resolves once the subscriber is connected and subscribed to the channel. */
async function listening(cache: AccessCache): Promise<void> {
  cache.listen(subscriber, prefix);
  await subscribed(accessChangedChannel(prefix));
}

describe('when membership announces that a user\'s access changed', () => {
  it('forgets that user\'s entries and keeps everyone else\'s', async () => {
    const cache = new AccessCache(60_000);
    await listening(cache);
    cache.set('user-a', 'malaria', memberAccess);
    cache.set('user-a', undefined, memberAccess);
    cache.set('user-b', 'malaria', memberAccess);

    await publisher.publish(accessChangedChannel(prefix), 'user-a');
    await eventually(async () => (cache.get('user-a', 'malaria') === undefined ? true : undefined));
    expect(cache.get('user-a', undefined)).toBeUndefined();
    expect(cache.get('user-b', 'malaria')).toEqual(memberAccess);
  });

  it('ignores announcements of another platform sharing the Redis', async () => {
    const cache = new AccessCache(60_000);
    await listening(cache);
    cache.set('user-a', 'malaria', memberAccess);
    const other = accessChangedChannel(uniqueQueuePrefix());
    await publisher.publish(other, 'user-a');
    // An announcement on our channel, sent after the other one, proves the other was received and ignored.
    cache.set('user-c', 'malaria', memberAccess);
    await publisher.publish(accessChangedChannel(prefix), 'user-c');
    await eventually(async () => (cache.get('user-c', 'malaria') === undefined ? true : undefined));
    expect(cache.get('user-a', 'malaria')).toEqual(memberAccess);
  });
});

describe('when the subscription to announcements is lost and comes back', () => {
  it('starts from an empty cache, since announcements sent meanwhile are gone, and listens again', async () => {
    const cache = new AccessCache(60_000);
    await listening(cache);
    cache.set('user-a', 'malaria', memberAccess);

    subscriber.disconnect(true); // drop the connection; ioredis reconnects and subscribes again
    await eventually(async () => (cache.get('user-a', 'malaria') === undefined ? true : undefined));

    await subscribed(accessChangedChannel(prefix));
    cache.set('user-b', 'malaria', memberAccess);
    await publisher.publish(accessChangedChannel(prefix), 'user-b');
    await eventually(async () => (cache.get('user-b', 'malaria') === undefined ? true : undefined));
  });
});

describe('when an entry is older than the time to live', () => {
  it('is no longer answered; a time to live of 0 caches nothing', async () => {
    const short = new AccessCache(20);
    short.set('user-a', 'malaria', memberAccess);
    expect(short.get('user-a', 'malaria')).toEqual(memberAccess);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(short.get('user-a', 'malaria')).toBeUndefined();

    const none = new AccessCache(0);
    none.set('user-a', 'malaria', memberAccess);
    expect(none.get('user-a', 'malaria')).toBeUndefined();
  });
});
