import { createDatabase, pruneIdempotencyKeys } from '@hexa/kit';
import { eventually, query, testDatabaseUrl } from '@hexa/testing';
import type { WorkspacesDatabase } from '@hexa/workspaces';
import { startPausableProxy, type PausableProxy } from './pausable-proxy.js';
import { ownerLogin, startStack, type Stack } from './stack.js';

let stack: Stack;
let owner: string;
beforeAll(async () => {
  stack = await startStack();
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
});
afterAll(() => stack.close());

function create(name: string, key: string, token = owner, extra: Record<string, unknown> = {}) {
  return stack.call({ method: 'POST', url: '/api/workspaces', token, headers: { 'idempotency-key': key }, payload: { name, ...extra } });
}

async function workspacesNamed(name: string): Promise<number> {
  const [row] = await query<{ count: number }>(`select count(*)::int as count from "${stack.schemas.workspaces}".workspaces where name = $1`, [name]);
  return row!.count;
}

describe('when a client retries a create with the same Idempotency-Key', () => {
  it('creates one workspace and replays the first answer, marked as replayed', async () => {
    const first = await create('Once Only', 'key-once-only');
    const again = await create('Once Only', 'key-once-only');
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await workspacesNamed('Once Only')).toBe(1);
  });

  it('creates one workspace when the two requests race', async () => {
    const answers = await Promise.all([create('Raced Twice', 'key-raced'), create('Raced Twice', 'key-raced'), create('Raced Twice', 'key-raced')]);
    const statuses = answers.map((answer) => answer.statusCode);
    // Each loser either waited for nothing (409, retry shortly) or came after the winner answered (a replay).
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(1);
    for (const answer of answers) {
      if (answer.statusCode === 409) expect(answer.json()).toMatchObject({ code: 'idempotency_key_in_flight' });
      else expect(answer.statusCode).toBe(201);
    }
    expect(new Set(answers.filter((answer) => answer.statusCode === 201).map((answer) => answer.json().id)).size).toBe(1);
    expect(await workspacesNamed('Raced Twice')).toBe(1);
  });
});

describe('when the same key comes with another request', () => {
  it('answers 422 idempotency_key_reused and creates nothing more', async () => {
    expect((await create('First Body', 'key-reused')).statusCode).toBe(201);
    const other = await create('Second Body', 'key-reused');
    expect(other.statusCode).toBe(422);
    expect(other.headers['content-type']).toContain('application/problem+json');
    expect(other.json()).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await workspacesNamed('Second Body')).toBe(0);
  });

  it('treats the same fields in another order as the same request', async () => {
    const first = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, headers: { 'idempotency-key': 'key-order', 'content-type': 'application/json' }, payload: '{"name":"Ordered","countries":["BF"]}' });
    const again = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, headers: { 'idempotency-key': 'key-order', 'content-type': 'application/json' }, payload: '{"countries":["BF"],"name":"Ordered"}' });
    expect(first.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
  });
});

describe('when the first request with a key failed', () => {
  it('frees the key: the corrected request with the same key goes through', async () => {
    const refused = await create('Fixed Later', 'key-after-failure', owner, { countries: ['XX'] });
    expect(refused.statusCode).toBe(400);
    const fixed = await create('Fixed Later', 'key-after-failure', owner, { countries: ['BF'] });
    expect(fixed.statusCode).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('when two people use the same key', () => {
  it('keeps their keys apart', async () => {
    const other = await stack.createUser('other-admin@example.org', 'ADMIN');
    const mine = await create('Mine With Key', 'shared-key');
    const theirs = await create('Theirs With Key', 'shared-key', other.token);
    expect([mine.statusCode, theirs.statusCode]).toEqual([201, 201]);
    expect(theirs.json().id).not.toBe(mine.json().id);
  });
});

describe('when the key itself is not valid', () => {
  it('answers 400 naming the header', async () => {
    const response = await create('Bad Key', 'k'.repeat(256));
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([{ field: 'headers/idempotency-key', message: 'must be 1 to 255 printable ASCII characters' }]);
    expect(await workspacesNamed('Bad Key')).toBe(0);
  });
});

describe('when a user is created with a key', () => {
  it('replays the answer for membership too', async () => {
    const payload = { email: 'keyed@example.org', name: 'Keyed', password: 'a long enough password', organizationRole: 'MEMBER' };
    const first = await stack.call({ method: 'POST', url: '/api/users', token: owner, headers: { 'idempotency-key': 'user-key' }, payload });
    const again = await stack.call({ method: 'POST', url: '/api/users', token: owner, headers: { 'idempotency-key': 'user-key' }, payload });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
  });
});

describe('when a key is older than its 24 hours', () => {
  it('is pruned by the worker\'s sweep, while a younger key still replays', async () => {
    expect((await create('Aged Key', 'key-aged')).statusCode).toBe(201);
    const fresh = await create('Young Key', 'key-young');
    await query(`update "${stack.schemas.workspaces}".idempotency_keys set created_at = now() - interval '24 hours 1 minute' where key = 'key-aged'`);
    await query(`update "${stack.schemas.workspaces}".idempotency_keys set created_at = now() - interval '23 hours' where key = 'key-young'`);

    const db = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
    try {
      expect(await pruneIdempotencyKeys(db)).toBe(1);
    } finally {
      await db.destroy();
    }
    const kept = await query<{ key: string }>(`select key from "${stack.schemas.workspaces}".idempotency_keys where key in ('key-aged', 'key-young')`);
    expect(kept).toEqual([{ key: 'key-young' }]);
    const replayed = await create('Young Key', 'key-young');
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json().id).toBe(fresh.json().id);
  });
});

describe('when the first request with a key is cut off after its workspace committed', () => {
  // Membership stops answering: the first request has committed its workspace and waits for the creator's
  // role, its completion not come yet, when the lease (a second here) lets a retry in.
  let slow: Stack;
  let membership: PausableProxy;
  let token: string;
  beforeAll(async () => {
    membership = await startPausableProxy();
    slow = await startStack({ workspacesEnv: { MEMBERSHIP_URL: membership.url, HEXA_IDEMPOTENCY_LEASE_SECONDS: '1' } });
    membership.target = slow.urls.membership;
    token = await slow.login(ownerLogin.email, ownerLogin.password);
  });
  afterAll(async () => {
    await slow.close();
    await membership.close();
  });

  const createSlowly = () => slow.call({ method: 'POST', url: '/api/workspaces', token, headers: { 'idempotency-key': 'key-cut-off' }, payload: { name: 'Cut Off' } });
  const committed = async () => (await query<{ id: string }>(`select id from "${slow.schemas.workspaces}".workspaces where name = 'Cut Off'`)).map((row) => row.id);

  it('replays the committed answer to a retry after the lease instead of creating a second workspace', async () => {
    membership.hold();
    const first = createSlowly();
    const [id] = await eventually(async () => ((await committed()).length > 0 ? committed() : undefined));
    // The first request's lease runs out while it still waits for membership.
    await eventually(async () => {
      const [key] = await query<{ expired: boolean }>(`select locked_until < now() as expired from "${slow.schemas.workspaces}".idempotency_keys where key = 'key-cut-off'`);
      return key?.expired ? true : undefined;
    });
    expect(membership.held).toBe(1);

    const retry = await createSlowly();
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toMatchObject({ id, name: 'Cut Off', role: 'ADMIN', roleStatus: 'pending' });
    expect(retry.headers.location).toBe(`/api/workspaces/${retry.json().slug}`);
    expect(await committed()).toEqual([id]);

    const answered = await first;
    expect(answered.statusCode).toBe(201);
    expect(answered.json()).toMatchObject({ id, roleStatus: 'pending' });
    expect(await committed()).toEqual([id]);
  });
});
