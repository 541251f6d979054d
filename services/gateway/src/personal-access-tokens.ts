import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Schemas } from '@hexa/contract';
import { accessChangedChannel, httpError, type ServiceClient } from '@hexa/kit';

/** What the gateway keeps of a resolved personal access token. */
export interface PersonalAccessTokenGrant {
  userId: string;
  scope: Schemas['TokenScope'];
  expiresAt: number;
}

/** Bounds the memory a gateway spends on resolved tokens. */
const maxCachedTokens = 10_000;

/**
 * Resolved tokens by the hash of their secret, for a short while: personal
 * access tokens, and (with another grant type) run tokens. Membership announces on `<prefix>:access-changed` when a user's
 * token is revoked and every token of that user is dropped; an answer fetched
 * while an announcement arrived is not stored (it may predate the revocation).
 */
export class PersonalAccessTokenCache<Grant extends { userId: string } = PersonalAccessTokenGrant> {
  private readonly entries = new Map<string, { grant: Grant; cachedUntil: number }>();
  /** Moves on every invalidation; a lookup started in an older generation is not cached. */
  private generation = 0;

  constructor(private readonly ttlMs: number) {}

  get currentGeneration(): number {
    return this.generation;
  }

  get(tokenHash: string): Grant | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.cachedUntil > Date.now()) return entry.grant;
    this.entries.delete(tokenHash);
    return undefined;
  }

  set(tokenHash: string, grant: Grant, lookupGeneration: number): void {
    if (this.ttlMs === 0 || lookupGeneration !== this.generation) return;
    if (!this.entries.has(tokenHash) && this.entries.size >= maxCachedTokens) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(tokenHash, { grant, cachedUntil: Date.now() + this.ttlMs });
  }

  forgetUser(userId: string): void {
    this.generation += 1;
    for (const [tokenHash, entry] of this.entries) if (entry.grant.userId === userId) this.entries.delete(tokenHash);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /**
   * Listens for membership's announcements on the gateway's subscriber
   * connection. Announcements sent while it was disconnected are lost, so
   * every (re)connection starts from an empty cache.
   */
  listen(subscriber: Redis, prefix: string): void {
    const channel = accessChangedChannel(prefix);
    subscriber.on('message', (received: string, userId: string) => {
      if (received === channel) this.forgetUser(userId);
    });
    subscriber.on('ready', () => this.clear());
    // As the access cache does: subscribe once the connection is ready (ioredis re-subscribes after reconnections).
    const subscribe = () => void subscriber.subscribe(channel).catch(() => undefined);
    if (subscriber.status === 'ready') subscribe();
    else subscriber.once('ready', subscribe);
  }
}

/** SHA-256, hex: the secret never leaves the gateway; membership stores and matches only this. */
export function hashPersonalAccessToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Resolves a personal access token through membership (cached): its owner
 * and scope, or 401 when it is unknown, revoked (`invalid_token`) or expired
 * (`token_expired`).
 */
export function createPersonalAccessTokenResolver(deps: { membership: ServiceClient<'membership'>; cache: PersonalAccessTokenCache }) {
  return async function resolve(secret: string): Promise<PersonalAccessTokenGrant> {
    const tokenHash = hashPersonalAccessToken(secret);
    let grant = deps.cache.get(tokenHash);
    if (!grant) {
      const generation = deps.cache.currentGeneration;
      try {
        const answer = await deps.membership.call('resolvePersonalAccessToken', { body: { tokenHash } });
        grant = { userId: answer.userId, scope: answer.scope, expiresAt: Date.parse(answer.expiresAt) };
      } catch (error) {
        if ((error as { code?: string }).code === 'not_found') throw httpError('invalid_token', 'This personal access token was revoked or never existed.');
        throw error;
      }
      deps.cache.set(tokenHash, grant, generation);
    }
    if (grant.expiresAt <= Date.now()) throw httpError('token_expired', 'This personal access token has expired; create a new one.');
    return grant;
  };
}
