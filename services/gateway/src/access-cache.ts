import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Schemas } from '@hexa/contract';
import { accessChangedChannel } from '@hexa/kit';

type Access = Schemas['Access'];

export interface AccessCacheOptions {
  /** How long an answer is used without an announcement; 0 caches nothing. */
  ttlMs: number;
  /** How many (user, workspace) answers are kept at most, over all users. */
  maxEntries: number;
}

// A slug never contains NUL (the contract's pattern), nor does a user id: the key cannot be forged
// by choosing a slug. `undefined` (no workspace addressed) keys as the empty slug.
const keyOf = (userId: string, slug: string | undefined) => `${userId}\u0000${slug ?? ''}`;

/**
 * Caches each user's resolved access per workspace, in one LRU bounded in
 * entries over all users (a user asking for random slugs evicts old answers
 * rather than growing the gateway's memory) and by a TTL (which bounds
 * staleness when an announcement is lost). Membership announces changes on a
 * Redis channel; the user's entries are then dropped.
 *
 * An answer that membership gave before an announcement may already be stale
 * when it arrives, so it is not stored: `resolve` takes the generation before
 * asking and stores only if no announcement (nor reconnection) happened
 * meanwhile. The generation is global, not per user: an announcement about
 * anyone discards the answers in flight for everyone, which costs one more
 * lookup for those requests, but needs no per-user bookkeeping that would
 * itself have to be bounded.
 */
export class AccessCache {
  private readonly entries: LRUCache<string, Access>;
  private generation = 0;

  constructor(private readonly options: AccessCacheOptions) {
    this.entries = new LRUCache<string, Access>({
      max: options.maxEntries,
      // lru-cache reads a ttl of 0 as "forever"; `resolve` stores nothing then.
      ...(options.ttlMs > 0 ? { ttl: options.ttlMs } : {}),
    });
  }

  /** How many answers are held now (expired ones included until they are read or evicted). */
  get size(): number {
    return this.entries.size;
  }

  get(userId: string, slug: string | undefined): Access | undefined {
    return this.entries.get(keyOf(userId, slug));
  }

  /**
   * The cached answer, or `lookup`'s, which is stored unless an announcement
   * or a reconnection came while it was being fetched.
   */
  async resolve(userId: string, slug: string | undefined, lookup: () => Promise<Access>): Promise<Access> {
    const cached = this.get(userId, slug);
    if (cached) return cached;
    const before = this.generation;
    const access = await lookup();
    if (this.options.ttlMs > 0 && before === this.generation) this.entries.set(keyOf(userId, slug), access);
    return access;
  }

  /**
   * Drops every answer about `userId`. Walking the whole LRU is O(entries),
   * but announcements are rare (a role changed) and a per-user index of slugs
   * would have to follow every LRU eviction to stay bounded itself.
   */
  forget(userId: string): void {
    this.generation += 1;
    const prefix = keyOf(userId, '');
    const stale: string[] = [];
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) stale.push(key);
    for (const key of stale) this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /**
   * Listens for membership's announcements. Announcements sent while the
   * subscriber was disconnected are lost, so every (re)connection starts
   * from an empty cache.
   */
  listen(subscriber: Redis, prefix: string): void {
    const channel = accessChangedChannel(prefix);
    subscriber.on('message', (received: string, userId: string) => {
      if (received === channel) this.forget(userId);
    });
    subscriber.on('ready', () => this.clear());
    // Subscribing before the first ready check races with it (ioredis then rejects the check, in
    // subscriber mode, and drops the connection); after later reconnections ioredis re-subscribes itself.
    const subscribe = () => void subscriber.subscribe(channel).catch(() => undefined);
    if (subscriber.status === 'ready') subscribe();
    else subscriber.once('ready', subscribe);
  }
}
