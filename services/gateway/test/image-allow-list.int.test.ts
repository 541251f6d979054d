import { query } from '@hexa/testing';
import { startStack, type Stack } from './stack.js';
import { workspaceWithPersonas, type PersonaWorkspace } from './workspace-personas.js';

// The allow-list applies when an Admin sets an image; an image set before the list was tightened stays
// until changed, and is judged again when a run is launched (decision 0009).
const allowList = 'registry.example.org/hexa/*, python:3.*';

let stack: Stack;
let workspace: PersonaWorkspace;
beforeAll(async () => {
  stack = await startStack({ workspacesEnv: { HEXA_DEFAULT_IMAGE: 'hexa/base:1', HEXA_IMAGE_ALLOW_LIST: allowList } });
  workspace = await workspaceWithPersonas(stack, 'Legacy Image');
  const created = await stack.call({ method: 'POST', url: `/api/workspaces/${workspace.slug}/pipelines`, token: workspace.tokens.editor, payload: { code: 'hello', name: 'Hello', command: ['echo', 'hello'] } });
  expect(created.statusCode).toBe(201);
  // Six services, migrated, and six users with hashed passwords: on a loaded machine, more than a test's time.
}, 60_000);
afterAll(() => stack.close());

const launch = async () => {
  const response = await stack.call({ method: 'POST', url: `/api/workspaces/${workspace.slug}/pipelines/hello/runs`, token: workspace.tokens.viewer, payload: {} });
  return { status: response.statusCode, body: response.json() };
};
const runs = async () => query<{ image: string }>(`select image from "${stack.schemas.runner}".runs where workspace_slug = $1`, [workspace.slug]);

describe('when a workspace keeps an image set before the allow-list was tightened', () => {
  beforeAll(async () => {
    // As it was stored when no list refused it: the API would refuse it now.
    await query(`update "${stack.schemas.workspaces}".workspaces set docker_image = 'ruby:3' where id = $1`, [workspace.id]);
  });

  it('still shows it in the settings, as stored', async () => {
    const read = await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}`, token: workspace.tokens.viewer });
    expect(read.json()).toMatchObject({ dockerImage: 'ruby:3', effectiveImage: 'ruby:3' });
  });

  it('refuses to launch a run with 409 image_not_allowed naming the allowed patterns, and records no run', async () => {
    const { status, body } = await launch();
    expect([status, body.code]).toEqual([409, 'image_not_allowed']);
    expect(body.detail).toBe(
      `"ruby:3" (docker.io/library/ruby:3) is not allowed on this platform; allowed images match: ${allowList}. An Admin of the workspace chooses another image in its settings.`,
    );
    expect(await runs()).toEqual([]);
  });

  it('launches again once an Admin sets an allowed image, or the platform default', async () => {
    expect((await stack.call({ method: 'PATCH', url: `/api/workspaces/${workspace.slug}`, token: workspace.tokens.admin, payload: { dockerImage: 'python:3.12' } })).statusCode).toBe(200);
    expect(await launch()).toMatchObject({ status: 202, body: { status: 'queued', image: 'python:3.12' } });
    expect((await stack.call({ method: 'PATCH', url: `/api/workspaces/${workspace.slug}`, token: workspace.tokens.admin, payload: { dockerImage: '' } })).statusCode).toBe(200);
    expect(await launch()).toMatchObject({ status: 202, body: { status: 'queued', image: 'hexa/base:1' } });
    expect((await runs()).map((run) => run.image).sort()).toEqual(['hexa/base:1', 'python:3.12']);
  });
});
