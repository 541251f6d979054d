import { query, watchIdempotentCommits } from '@hexa/testing';
import { ownerLogin, startStack, type Stack } from './stack.js';

// Every creating operation writes its Idempotency-Key's answer in the transaction of its effect: at the
// instant the effect commits, no key is left unanswered, so a request cut off after its commit leaves an
// answer to replay, never a key a retry could take over after the lease to create the thing twice.
let stack: Stack;
let owner: string;
beforeAll(async () => {
  stack = await startStack();
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
});
afterAll(() => stack.close());

/** Sends `request` twice with one key: the effect commits with its answer, and the second call replays it. */
async function createdOnceWithItsAnswer(
  watched: { schema: string; table: string },
  request: { method: 'POST'; url: string; payload?: Record<string, unknown> },
  key: string,
): Promise<{ statusCode: number; body: Record<string, unknown> }> {
  const watch = await watchIdempotentCommits(watched.schema, watched.table);
  try {
    const first = await stack.call({ ...request, token: owner, headers: { 'idempotency-key': key } });
    expect([201, 202]).toContain(first.statusCode);
    const atCommit = await watch.unansweredAtCommit();
    expect(atCommit.length).toBeGreaterThan(0);
    expect(new Set(atCommit)).toEqual(new Set([0]));

    const again = await stack.call({ ...request, token: owner, headers: { 'idempotency-key': key } });
    expect(again.statusCode).toBe(first.statusCode);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(first.headers.location);
    return { statusCode: first.statusCode, body: first.json() };
  } finally {
    await watch.stop();
  }
}

describe('when a workspace is created with a key', () => {
  it('commits the answer with the workspace and replays it', async () => {
    const { body } = await createdOnceWithItsAnswer(
      { schema: stack.schemas.workspaces, table: 'workspaces' },
      { method: 'POST', url: '/api/workspaces', payload: { name: 'Committed Answer' } },
      'commit-workspace',
    );
    expect(await query(`select id from "${stack.schemas.workspaces}".workspaces where name = 'Committed Answer'`)).toEqual([{ id: body.id }]);
  });
});

describe('when a user is created with a key', () => {
  it('commits the answer with the user and replays it', async () => {
    const payload = { email: 'committed@example.org', name: 'Committed', password: 'a long enough password', organizationRole: 'MEMBER' };
    const { body } = await createdOnceWithItsAnswer({ schema: stack.schemas.membership, table: 'users' }, { method: 'POST', url: '/api/users', payload }, 'commit-user');
    expect(await query(`select id from "${stack.schemas.membership}".users where email = 'committed@example.org'`)).toEqual([{ id: body.id }]);
  });
});
