import { query } from '@hexa/testing';
import { createdOnceWithItsAnswer } from './idempotent-create.js';
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

describe('when a workspace is created with a key', () => {
  it('commits the answer with the workspace and replays it', async () => {
    const { body } = await createdOnceWithItsAnswer(
      stack,
      owner,
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
    const { body } = await createdOnceWithItsAnswer(stack, owner, { schema: stack.schemas.membership, table: 'users' }, { method: 'POST', url: '/api/users', payload }, 'commit-user');
    expect(await query(`select id from "${stack.schemas.membership}".users where email = 'committed@example.org'`)).toEqual([{ id: body.id }]);
  });
});
