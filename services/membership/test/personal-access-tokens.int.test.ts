import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { componentSchema } from '@hexa/contract';
import { accessChangedChannel, createDatabase, type UserCaller } from '@hexa/kit';
import { query, testRedisUrl } from '@hexa/testing';
import { createUsersService, type MembershipDatabase } from '../src/index.js';
import { startMembership, type MembershipHarness } from './harness.js';

let harness: MembershipHarness;
let alice: UserCaller;
let bob: UserCaller;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  harness = await startMembership();
  const db = createDatabase<MembershipDatabase>({ url: harness.config.DATABASE_URL, schema: harness.schema });
  const users = createUsersService({ db });
  await users.seedOwner({ email: 'owner@example.org', name: 'Olive Owner', password: 'owner password 123' });
  const [owner] = await query<{ id: string }>(`select id from "${harness.schema}".users where email = 'owner@example.org'`);
  const ownerCaller: UserCaller = { kind: 'user', userId: owner!.id, organizationRole: 'OWNER', adminSomewhere: false };
  const caller = async (email: string): Promise<UserCaller> => {
    const user = await users.createUser(ownerCaller, { email, name: email.split('@')[0]!, password: 'a long password 1', organizationRole: 'MEMBER' });
    return { kind: 'user', userId: user.id, organizationRole: 'MEMBER', adminSomewhere: false };
  };
  alice = await caller('alice@example.org');
  bob = await caller('bob@example.org');
  await db.destroy();
});
afterAll(() => harness.close());

function create(caller: UserCaller, payload: Record<string, unknown>) {
  return harness.app.inject({ method: 'POST', url: '/me/tokens', headers: harness.as(caller, 'createPersonalAccessToken'), payload });
}
function list(caller: UserCaller) {
  return harness.app.inject({ method: 'GET', url: '/me/tokens', headers: harness.as(caller, 'listPersonalAccessTokens') });
}
function revoke(caller: UserCaller, id: string) {
  return harness.app.inject({ method: 'DELETE', url: `/me/tokens/${id}`, headers: harness.as(caller, 'deletePersonalAccessToken') });
}
function resolve(tokenHash: string, as: 'gateway' | 'workspaces' = 'gateway') {
  return harness.app.inject({
    method: 'POST',
    url: '/internal/personal-access-tokens/resolve',
    headers: harness.as({ kind: 'service', service: as }, 'resolvePersonalAccessToken'),
    payload: { tokenHash },
  });
}

describe('when a user creates a personal access token', () => {
  it('answers 201 with the secret, once, in the documented format, with a 90-day full-scope default', async () => {
    const response = await create(alice, { name: 'nightly export' });
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const created = response.json();
    expect(created).toMatchObject({ name: 'nightly export', scope: 'full', lastUsedAt: null });
    expect(created.token).toMatch(new RegExp(String(componentSchema('PersonalAccessTokenSecret').pattern)));
    expect(created.token).toMatch(/^hexa_pat_[A-Za-z0-9_-]{43}$/);
    const days = (Date.parse(created.expiresAt) - Date.parse(created.createdAt)) / 86_400_000;
    expect(days).toBeCloseTo(90, 3);
  });

  it('stores only the SHA-256 of the secret', async () => {
    const created = (await create(alice, { name: 'stored', scope: 'read-only', expiresInDays: 7 })).json();
    const rows = await query<Record<string, unknown>>(`select * from "${harness.schema}".personal_access_tokens where id = $1`, [created.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(sha256(created.token));
    expect(JSON.stringify(rows[0])).not.toContain(created.token.slice('hexa_pat_'.length));
    expect(rows[0]).toMatchObject({ scope: 'read-only', name: 'stored' });
  });

  it.each([
    ['a lifetime of 0 days', { name: 'x', expiresInDays: 0 }],
    ['a lifetime over a year', { name: 'x', expiresInDays: 366 }],
    ['an unknown scope', { name: 'x', scope: 'admin' }],
    ['a blank name', { name: '   ' }],
    ['an unknown field', { name: 'x', expiresIn: 3 }],
  ])('answers 400 for %s', async (_case, payload) => {
    const response = await create(alice, payload);
    expect([response.statusCode, response.json().code]).toEqual([400, 'invalid_input']);
  });
});

describe('when a user lists their tokens', () => {
  it('shows only their own, without any secret', async () => {
    const created = (await create(bob, { name: 'bob script' })).json();
    const response = await list(bob);
    expect(response.statusCode).toBe(200);
    const { items } = response.json();
    expect(items).toEqual([{ id: created.id, name: 'bob script', scope: 'full', createdAt: created.createdAt, expiresAt: created.expiresAt, lastUsedAt: null }]);
    expect(response.body).not.toContain(created.token);
    expect((await list(alice)).json().items.map((item: { id: string }) => item.id)).not.toContain(created.id);
  });
});

describe('when the gateway resolves a token', () => {
  it('answers its owner, scope and expiry by the hash, and records the use', async () => {
    const created = (await create(alice, { name: 'resolved', scope: 'read-only' })).json();
    const response = await resolve(sha256(created.token));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ tokenId: created.id, userId: alice.userId, scope: 'read-only', expiresAt: created.expiresAt });
    const listed = (await list(alice)).json().items.find((item: { id: string }) => item.id === created.id);
    expect(listed.lastUsedAt).not.toBeNull();
  });

  it('answers 404 for an unknown hash', async () => {
    const response = await resolve(sha256('hexa_pat_never-issued'));
    expect([response.statusCode, response.json().code]).toEqual([404, 'not_found']);
  });

  it('answers 403 to any other service', async () => {
    const created = (await create(alice, { name: 'not for workspaces' })).json();
    const response = await resolve(sha256(created.token), 'workspaces');
    expect([response.statusCode, response.json().code]).toEqual([403, 'forbidden']);
  });
});

describe('when a user revokes a token', () => {
  it('answers 204, announces the change to gateways, and the token no longer resolves', async () => {
    const created = (await create(alice, { name: 'to revoke' })).json();
    const subscriber = new Redis(testRedisUrl);
    try {
      const announced = new Promise<string>((done) => subscriber.on('message', (_channel, userId: string) => done(userId)));
      await subscriber.subscribe(accessChangedChannel(harness.config.HEXA_QUEUE_PREFIX));
      expect((await revoke(alice, created.id)).statusCode).toBe(204);
      expect(await announced).toBe(alice.userId);
    } finally {
      subscriber.disconnect();
    }
    expect((await resolve(sha256(created.token))).statusCode).toBe(404);
    expect(await query(`select 1 from "${harness.schema}".personal_access_tokens where id = $1`, [created.id])).toEqual([]);
  });

  it('answers 404 for someone else\'s token and leaves it working', async () => {
    const created = (await create(bob, { name: 'bob keeps it' })).json();
    const response = await revoke(alice, created.id);
    expect([response.statusCode, response.json().code]).toEqual([404, 'not_found']);
    expect((await resolve(sha256(created.token))).statusCode).toBe(200);
  });
});
