import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { query } from '@hexa/testing';
import { createdOnceWithItsAnswer } from './idempotent-create.js';
import { ownerLogin, startStack, type Stack } from './stack.js';

// The files service's and the runner's creating operations write their Idempotency-Key's answer in the
// transaction of their effect, as workspaces and users do (idempotency-commit.int.test.ts): at the instant
// the effect commits, no key is left unanswered, so a request cut off after its commit leaves an answer to
// replay, never a key a retry could take over after the lease to create the thing twice.
let stack: Stack;
let owner: string;
const workspace = { slug: '', id: '' };
beforeAll(async () => {
  stack = await startStack();
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name: 'Committed Answers' } });
  expect(created.statusCode).toBe(201);
  Object.assign(workspace, created.json<{ slug: string; id: string }>());
});
afterAll(() => stack.close());

const url = (rest: string) => `/api/workspaces/${workspace.slug}${rest}`;

async function count(sql: string, parameters: unknown[]): Promise<number> {
  const [row] = await query<{ count: number }>(sql, parameters);
  return row!.count;
}

describe('when a folder is created with a key', () => {
  it('commits the answer with its audit entry and replays it', async () => {
    // The folder is made inside its audit entry's transaction: that entry, in the files service's outbox, is what commits.
    const { statusCode, body } = await createdOnceWithItsAnswer(stack, owner, { schema: stack.schemas.files, table: 'outbox' }, { method: 'POST', url: url('/folders'), payload: { path: 'committed' } }, 'commit-folder');
    expect(statusCode).toBe(201);
    expect(body).toMatchObject({ path: 'committed', type: 'folder' });
    expect(readdirSync(join(stack.filesConfig.HEXA_FILES_DIR, workspace.id))).toEqual(['committed']);
    const entries = `select count(*)::int as count from "${stack.schemas.files}".outbox where job_name = 'audit.recorded' and payload->>'action' = 'folder.created' and payload->>'target' = $1`;
    expect(await count(entries, ['committed'])).toBe(1);
  });
});

describe('when a connection is created with a key', () => {
  it('commits the answer with the connection and replays it', async () => {
    const payload = { name: 'Committed Connection', type: 'CUSTOM', fields: [{ code: 'token', value: 'not a real token', secret: true }] };
    const { statusCode, body } = await createdOnceWithItsAnswer(stack, owner, { schema: stack.schemas.files, table: 'connections' }, { method: 'POST', url: url('/connections'), payload }, 'commit-connection');
    expect(statusCode).toBe(201);
    // A second create without the key would have taken the next slug (committed-connection-2).
    expect(await query(`select id from "${stack.schemas.files}".connections where name = 'Committed Connection'`)).toEqual([{ id: body.id }]);
  });
});

describe('when a pipeline is created with a key', () => {
  it('commits the answer with the pipeline and replays it', async () => {
    const payload = { code: 'p-one', name: 'P one', command: ['true'] };
    const { statusCode, body } = await createdOnceWithItsAnswer(stack, owner, { schema: stack.schemas.runner, table: 'pipelines' }, { method: 'POST', url: url('/pipelines'), payload }, 'commit-pipeline');
    expect(statusCode).toBe(201);
    expect(body).toMatchObject({ code: 'p-one' });
    expect(await count(`select count(*)::int as count from "${stack.schemas.runner}".pipelines where workspace_id = $1 and code = 'p-one'`, [workspace.id])).toBe(1);
  });
});

describe('when a pipeline is launched with a key', () => {
  it('commits the answer with the queued run and replays it', async () => {
    const pipeline = await stack.call({ method: 'POST', url: url('/pipelines'), token: owner, payload: { code: 'p-launched', name: 'P launched', command: ['true'] } });
    expect(pipeline.statusCode).toBe(201);
    // No runner worker runs here: the launch commits the run as queued, and nothing changes it afterwards.
    const { statusCode, body } = await createdOnceWithItsAnswer(stack, owner, { schema: stack.schemas.runner, table: 'runs' }, { method: 'POST', url: url('/pipelines/p-launched/runs'), payload: {} }, 'commit-run');
    expect(statusCode).toBe(202);
    expect(body).toMatchObject({ pipelineCode: 'p-launched', status: 'queued' });
    expect(await query(`select id from "${stack.schemas.runner}".runs where pipeline_code = 'p-launched'`)).toEqual([{ id: body.id }]);
  });
});
