import { PersonalAccessTokenCache, type PersonalAccessTokenGrant } from '../src/personal-access-tokens.js';

const inADay = Date.now() + 86_400_000;
const grantOf = (userId: string): PersonalAccessTokenGrant => ({ userId, scope: 'full', expiresAt: inADay });

describe('when membership announces a change for a user', () => {
  it('drops every cached token of that user and keeps the others', () => {
    const cache = new PersonalAccessTokenCache(60_000);
    cache.set('hash-a1', grantOf('a'), cache.currentGeneration);
    cache.set('hash-a2', grantOf('a'), cache.currentGeneration);
    cache.set('hash-b', grantOf('b'), cache.currentGeneration);
    cache.forgetUser('a');
    expect(cache.get('hash-a1')).toBeUndefined();
    expect(cache.get('hash-a2')).toBeUndefined();
    expect(cache.get('hash-b')).toEqual(grantOf('b'));
  });

  it('does not store an answer fetched before the announcement arrived (it may predate a revocation)', () => {
    const cache = new PersonalAccessTokenCache(60_000);
    const lookupStarted = cache.currentGeneration;
    cache.forgetUser('a'); // the revocation is announced while the lookup is in flight
    cache.set('hash-a', grantOf('a'), lookupStarted);
    expect(cache.get('hash-a')).toBeUndefined();
    cache.set('hash-a', grantOf('a'), cache.currentGeneration);
    expect(cache.get('hash-a')).toBeDefined();
  });
});

describe('when a cached token is older than the cache\'s lifetime', () => {
  it('is looked up again', async () => {
    const cache = new PersonalAccessTokenCache(20);
    cache.set('hash', grantOf('a'), cache.currentGeneration);
    expect(cache.get('hash')).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(cache.get('hash')).toBeUndefined();
  });

  it('is never stored when the lifetime is zero', () => {
    const cache = new PersonalAccessTokenCache(0);
    cache.set('hash', grantOf('a'), cache.currentGeneration);
    expect(cache.get('hash')).toBeUndefined();
  });
});
