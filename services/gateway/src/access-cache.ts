import type { Redis } from 'ioredis';
import type { Schemas } from '@hexa/contract';
import { accessChangedChannel } from '@hexa/kit';

type Access = Schemas['Access'];

/** Bounds the memory a gateway spends on cached roles. */
const maxCachedUsers = 10_000;

/**
 * Caches each user's resolved access per workspace. Membership announces
 * changes on a Redis channel and the user's entries are dropped; a short TTL
 * bounds staleness when an announcement is lost.
 */
export class AccessCache {
  private readonly byUser = new Map<string, Map<string, { access: Access; expiresAt: number }>>();

  constructor(private readonly ttlMs: number) {}

  get(userId: string, slug: string | undefined): Access | undefined {
    const entry = this.byUser.get(userId)?.get(slug ?? '');
    if (!entry || entry.expiresAt <= Date.now()) return undefined;
    return entry.access;
  }

  set(userId: string, slug: string | undefined, access: Access): void {
    if (this.ttlMs === 0) return;
    let entries = this.byUser.get(userId);
    if (!entries) {
      if (this.byUser.size >= maxCachedUsers) this.byUser.delete(this.byUser.keys().next().value!);
      entries = new Map();
      this.byUser.set(userId, entries);
    }
    entries.set(slug ?? '', { access, expiresAt: Date.now() + this.ttlMs });
  }

  forget(userId: string): void {
    this.byUser.delete(userId);
  }

  clear(): void {
    this.byUser.clear();
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
