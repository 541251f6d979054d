import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { listJobs } from '@hexa/contract';
import { accessChangedChannel, createDatabase, createOutboxRelay, createRedis } from '@hexa/kit';
import { eventually, htmlDangers, invalidImageReferences, query, testDatabaseUrl, testRedisUrl, validImageReferences, xssPayloads } from '@hexa/testing';
import type { WorkspacesDatabase } from '@hexa/workspaces';
import { startStack, type Stack } from './stack.js';
import { startWorkers, type Workers } from './workers.js';
import { workspaceWithPersonas, type Persona, type PersonaWorkspace } from './workspace-personas.js';

const defaultImage = 'registry.example.org/hexa/base:2026.11';

let stack: Stack;
let workspace: PersonaWorkspace;
beforeAll(async () => {
  stack = await startStack({ workspacesEnv: { HEXA_DEFAULT_IMAGE: defaultImage } });
  workspace = await workspaceWithPersonas(stack, 'Santé Publique');
  // Six services, migrated, and six users with hashed passwords: on a loaded machine, more than a test's time.
}, 60_000);
afterAll(() => stack.close());

async function as(persona: Persona, method: 'GET' | 'PUT' | 'PATCH' | 'POST', path: string, payload?: unknown) {
  const response = await stack.call({ method, url: `/api/workspaces/${workspace.slug}${path}`, token: workspace.tokens[persona], ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: response.statusCode, body: response.json() };
}

describe('when a workspace is new', () => {
  it('has a home page that points to its database, pipelines, members and settings, rendered as safe HTML', async () => {
    const { status, body } = await as('viewer', 'GET', '');
    expect(status).toBe(200);
    expect(body.description).toContain('# Santé Publique');
    for (const route of ['database', 'pipelines', 'members', 'settings']) {
      expect(body.description).toContain(`(/workspaces/${workspace.slug}/${route})`);
      expect(body.descriptionHtml).toContain(`<a href="/workspaces/${workspace.slug}/${route}" rel="noopener noreferrer">`);
    }
    expect(body.descriptionHtml).toContain('<h1>Santé Publique</h1>');
  });

  it('runs the platform default image until an Admin names one', async () => {
    const { body } = await as('viewer', 'GET', '');
    expect(body).toMatchObject({ dockerImage: null, effectiveImage: defaultImage });
  });
});

describe('when an Editor changes the home page', () => {
  it('stores the Markdown and answers it rendered, with scripts, handlers and javascript: links removed', async () => {
    const markdown = '## Data\n\nSee [the docs](https://example.org/docs) and [x](javascript:alert(1)).\n\n<img src=x onerror="alert(1)"><script>alert(2)</script>';
    const { status, body } = await as('editor', 'PUT', '/description', { markdown });
    expect(status).toBe(200);
    expect(body.description).toBe(markdown);
    expect(body.descriptionHtml).toBe(
      '<h2>Data</h2>\n<p>See <a href="https://example.org/docs" rel="noopener noreferrer" target="_blank">the docs</a> and [x](javascript:alert(1)).</p>\n<p><img src="x"></p>\n',
    );
    const read = await as('viewer', 'GET', '');
    expect(read.body).toMatchObject({ description: markdown, descriptionHtml: body.descriptionHtml });
  });

  it('refuses a page over 100,000 characters, saying so, and keeps the old one', async () => {
    const before = (await as('viewer', 'GET', '')).body.description;
    const { status, body } = await as('editor', 'PUT', '/description', { markdown: 'x'.repeat(100_001) });
    expect([status, body.code]).toEqual([400, 'invalid_input']);
    expect(body.errors).toEqual([{ field: 'body/markdown', message: 'must NOT have more than 100000 characters' }]);
    expect((await as('viewer', 'GET', '')).body.description).toBe(before);
    expect((await as('editor', 'PUT', '/description', { markdown: 'y'.repeat(100_000) })).status).toBe(200);
  });

  it('answers 403 to a Viewer and 404 to someone who is not a member', async () => {
    expect(await as('viewer', 'PUT', '/description', { markdown: 'mine' })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await as('outsider', 'PUT', '/description', { markdown: 'mine' })).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
  });
});

describe('when an Editor writes a home page holding a known XSS payload', () => {
  it('stores each as written and answers and serves it rendered with nothing a browser would run', async () => {
    for (const markdown of xssPayloads) {
      const { status, body } = await as('editor', 'PUT', '/description', { markdown });
      // PostgreSQL stores no NUL character: such a page is refused, and the one before it stays.
      if (markdown.includes('\u0000')) {
        expect({ markdown, status, code: body.code }).toEqual({ markdown, status: 400, code: 'invalid_input' });
        expect((await as('viewer', 'GET', '')).body.description).not.toBe(markdown);
        continue;
      }
      expect({ markdown, status, code: body.code }).toEqual({ markdown, status: 200, code: undefined });
      expect({ markdown, dangers: htmlDangers(body.descriptionHtml) }).toEqual({ markdown, dangers: [] });
      const read = (await as('viewer', 'GET', '')).body;
      expect({ markdown, stored: read.description, dangers: htmlDangers(read.descriptionHtml) }).toEqual({ markdown, stored: markdown, dangers: [] });
    }
  });
});

describe('when an Admin changes the general settings', () => {
  it('renames the workspace and sets its countries, answered with their English names; the slug stays', async () => {
    const { status, body } = await as('admin', 'PATCH', '', { name: '  Santé Publique Sahel ', countries: ['BF', 'ML', 'NE'] });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      slug: workspace.slug,
      name: 'Santé Publique Sahel',
      countries: [{ code: 'BF', name: 'Burkina Faso' }, { code: 'ML', name: 'Mali' }, { code: 'NE', name: 'Niger' }],
    });
    expect((await as('viewer', 'GET', '')).body).toMatchObject({ slug: workspace.slug, name: 'Santé Publique Sahel' });
  });

  it('refuses unknown or malformed countries, a blank name, an empty change and unknown fields, naming each', async () => {
    const cases: [unknown, { field: string; message: string }[]][] = [
      [{ countries: ['BF', 'XX'] }, [{ field: 'body/countries/1', message: 'unknown country code "XX"' }]],
      [{ countries: ['XK'] }, [{ field: 'body/countries/0', message: 'unknown country code "XK"' }]],
      [{ countries: ['bf'] }, [{ field: 'body/countries/0', message: 'must match pattern "^[A-Z]{2}$"' }]],
      [{ countries: ['BF', 'BF'] }, [{ field: 'body/countries', message: 'must NOT have duplicate items (items ## 1 and 0 are identical)' }]],
      [{ name: '   ' }, [{ field: 'body/name', message: 'must match pattern "\\S"' }]],
      [{}, [{ field: 'body', message: 'must NOT have fewer than 1 properties' }]],
      [{ slug: 'other' }, [{ field: 'body/slug', message: 'unknown field "slug"' }]],
    ];
    for (const [payload, errors] of cases) {
      const { status, body } = await as('admin', 'PATCH', '', payload);
      expect({ payload, status, code: body.code, errors: body.errors }).toEqual({ payload, status: 400, code: 'invalid_input', errors });
    }
  });

  it('answers 403 to an Editor and a Viewer, and 404 to someone who is not a member', async () => {
    for (const persona of ['editor', 'viewer'] as const) {
      expect(await as(persona, 'PATCH', '', { name: 'Mine' })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    }
    expect(await as('outsider', 'PATCH', '', { name: 'Mine' })).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
  });

  it('lets an organization Admin who is not a member change them too', async () => {
    expect(await as('organizationAdmin', 'PATCH', '', { countries: ['SN'] })).toMatchObject({ status: 200, body: { countries: [{ code: 'SN', name: 'Senegal' }] } });
  });
});

describe('when an Admin sets the Docker image', () => {
  it('keeps a valid reference and runs it; empty goes back to the platform default', async () => {
    const image = `registry.example.org:5000/hexa/python:3.12@sha256:${'0f'.repeat(32)}`;
    expect((await as('admin', 'PATCH', '', { dockerImage: image })).body).toMatchObject({ dockerImage: image, effectiveImage: image });
    expect((await as('viewer', 'GET', '')).body).toMatchObject({ dockerImage: image, effectiveImage: image });
    expect((await as('admin', 'PATCH', '', { dockerImage: '' })).body).toMatchObject({ dockerImage: null, effectiveImage: defaultImage });
    expect((await as('admin', 'PATCH', '', { dockerImage: null })).body.errors).toEqual([{ field: 'body/dockerImage', message: 'must be string' }]);
  });

  it('keeps every valid reference of the validator tests', async () => {
    for (const [image] of validImageReferences) {
      const { status, body } = await as('admin', 'PATCH', '', { dockerImage: image });
      expect({ image, status, dockerImage: body.dockerImage, effectiveImage: body.effectiveImage }).toEqual({ image, status: 200, dockerImage: image, effectiveImage: image });
    }
  });

  it('refuses every invalid reference of the validator tests with its reason, and changes nothing', async () => {
    await as('admin', 'PATCH', '', { dockerImage: 'python:3.11' });
    // "" is not among them here: in the settings it means the platform default (above).
    for (const [image, reason] of invalidImageReferences.filter(([image]) => image !== '')) {
      const { status, body } = await as('admin', 'PATCH', '', { dockerImage: image });
      // The contract refuses what is too long before the validator reads it.
      const message = image.length > 255 ? 'must NOT have more than 255 characters' : expect.stringMatching(reason);
      expect({ image, status, code: body.code, errors: body.errors }).toEqual({ image, status: 400, code: 'invalid_input', errors: [{ field: 'body/dockerImage', message }] });
    }
    expect((await as('viewer', 'GET', '')).body).toMatchObject({ dockerImage: 'python:3.11' });
  });

  it('refuses an invalid reference with the reason, and changes nothing', async () => {
    await as('admin', 'PATCH', '', { dockerImage: 'python:3.11' });
    const cases: [string, RegExp][] = [
      ['Python:3.12', /repository "Python" must be lower-case/],
      ['python:3.12@sha256:abc', /digest "sha256:abc" must be "sha256:" followed by 64/],
      ['hexa//python', /empty path component/],
      ['python 3', /white space/],
      ['registry.example.org:99999/x', /port "99999"/],
      ['python:.x', /tag ".x"/],
    ];
    for (const [image, reason] of cases) {
      const { status, body } = await as('admin', 'PATCH', '', { dockerImage: image, name: 'Never Saved' });
      expect({ image, status, code: body.code }).toEqual({ image, status: 400, code: 'invalid_input' });
      expect(body.errors).toEqual([{ field: 'body/dockerImage', message: expect.stringMatching(reason) }]);
    }
    const tooLong = await as('admin', 'PATCH', '', { dockerImage: `${'a'.repeat(250)}:123456` });
    expect(tooLong.body.errors).toEqual([{ field: 'body/dockerImage', message: 'must NOT have more than 255 characters' }]);
    expect((await as('viewer', 'GET', '')).body).toMatchObject({ dockerImage: 'python:3.11', name: 'Santé Publique Sahel' });
  });
});

describe('when the platform restricts images to an allow-list', () => {
  let restricted: Stack;
  let place: PersonaWorkspace;
  beforeAll(async () => {
    restricted = await startStack({ workspacesEnv: { HEXA_DEFAULT_IMAGE: 'hexa/base:1', HEXA_IMAGE_ALLOW_LIST: 'registry.example.org/hexa/*, python:3.*' } });
    place = await workspaceWithPersonas(restricted, 'Restricted');
  });
  afterAll(() => restricted.close());

  const patch = async (dockerImage: string) => {
    const response = await restricted.call({ method: 'PATCH', url: `/api/workspaces/${place.slug}`, token: place.tokens.admin, payload: { dockerImage } });
    return { status: response.statusCode, body: response.json() };
  };

  it('accepts images that a pattern matches, Docker Hub names included', async () => {
    expect(await patch('registry.example.org/hexa/r-env:4.3')).toMatchObject({ status: 200, body: { dockerImage: 'registry.example.org/hexa/r-env:4.3' } });
    expect(await patch('docker.io/library/python:3.12')).toMatchObject({ status: 200 });
    expect(await patch('')).toMatchObject({ status: 200, body: { dockerImage: null, effectiveImage: 'hexa/base:1' } });
  });

  it('refuses any other image with an error that names the allowed patterns', async () => {
    const { status, body } = await patch('registry.example.org/other/r-env:4.3');
    expect([status, body.code]).toEqual([400, 'invalid_input']);
    expect(body.detail).toBe('"registry.example.org/other/r-env:4.3" (registry.example.org/other/r-env:4.3) is not allowed on this platform; allowed images match: registry.example.org/hexa/*, python:3.*');
    expect((await patch('python:2.7')).body.detail).toContain('allowed images match: registry.example.org/hexa/*, python:3.*');
  });
});

describe('when an Admin archives the workspace', () => {
  let archived: PersonaWorkspace;
  // The workers the stack leaves out: the workspaces outbox, driven one pass at a time (so the test still sees
  // the rows an archive or a restore wrote), and membership's worker, which follows the archive for the gateway.
  let workspacesDb: Kysely<WorkspacesDatabase>;
  let relayRedis: Redis;
  let relay: ReturnType<typeof createOutboxRelay<WorkspacesDatabase>>;
  let workers: Workers;
  beforeAll(async () => {
    archived = await workspaceWithPersonas(stack, 'Old Project');
    workspacesDb = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
    relayRedis = createRedis(testRedisUrl);
    relay = createOutboxRelay({ db: workspacesDb, redis: relayRedis, prefix: stack.queuePrefix });
    workers = await startWorkers(stack);
  });
  afterAll(async () => {
    await workers.close();
    await relay.close();
    relayRedis.disconnect();
    await workspacesDb.destroy();
  });

  const call = async (persona: Persona, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) => {
    const response = await stack.call({ method, url, token: archived.tokens[persona], ...(payload ? { payload } : {}) });
    return { status: response.statusCode, body: response.json() };
  };
  const listed = async (persona: Persona, query = '') =>
    (await call(persona, 'GET', `/api/workspaces?perPage=100${query}`)).body.items.map((item: { slug: string }) => item.slug) as string[];

  it('refuses Editors and Viewers (403) and outsiders (404)', async () => {
    for (const persona of ['editor', 'viewer'] as const) expect(await call(persona, 'POST', `/api/workspaces/${archived.slug}/archive`)).toMatchObject({ status: 403 });
    expect(await call('outsider', 'POST', `/api/workspaces/${archived.slug}/archive`)).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
  });

  it('hides it from every list and lookup, emits workspace.archived in the same transaction, and refuses a second archive (404 to its members now)', async () => {
    expect(await listed('viewer')).toContain(archived.slug);
    const answer = await call('admin', 'POST', `/api/workspaces/${archived.slug}/archive`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ slug: archived.slug, archivedAt: expect.any(String) });

    for (const persona of ['admin', 'editor', 'viewer', 'organizationAdmin', 'owner'] as const) {
      expect(await listed(persona)).not.toContain(archived.slug);
      expect(await call(persona, 'GET', `/api/workspaces/${archived.slug}`)).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
      expect(await call(persona, 'GET', `/api/workspaces/${archived.slug}/configuration`)).toMatchObject({ status: 404 });
    }
    expect(await call('admin', 'PATCH', `/api/workspaces/${archived.slug}`, { name: 'Back' })).toMatchObject({ status: 404 });
    expect(await call('editor', 'PUT', `/api/workspaces/${archived.slug}/description`, { markdown: 'x' })).toMatchObject({ status: 404 });
    expect(await call('outsider', 'GET', `/api/workspaces/${archived.slug}`)).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });

    // One event for every service that consumes it, as the contract's job list says.
    const consumers = listJobs().filter((job) => job.name === 'workspace.archived').map((job) => job.queue).sort();
    expect(consumers.length).toBeGreaterThan(0);
    const events = await query(`select queue, job_name, payload from "${stack.schemas.workspaces}".outbox where job_name = 'workspace.archived' order by queue`);
    expect(events).toEqual(consumers.map((queue) => ({ queue, job_name: 'workspace.archived', payload: { workspaceId: archived.id, slug: archived.slug, actorId: archived.userIds.admin } })));

    // Archiving it again: a conflict for organization Owners and Admins; for its own Admin it is gone.
    expect(await call('owner', 'POST', `/api/workspaces/${archived.slug}/archive`)).toMatchObject({ status: 409, body: { code: 'conflict' } });
    expect(await call('admin', 'POST', `/api/workspaces/${archived.slug}/archive`)).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
  });

  // Every service's view of the workspace, as its members use it; what the admin may change, too.
  const lookups = ['/members', '/files', '/connections', '/database', '/pipelines', '/invitations', '/audit'];
  const members = ['admin', 'editor', 'viewer'] as const;
  /** What each lookup answers: its status, and the problem's code when it is one. */
  const answersOf = async (persona: Persona) =>
    Promise.all(
      lookups.map(async (path) => {
        const { status, body } = await call(persona, 'GET', `/api/workspaces/${archived.slug}${path}`);
        return [path, status, status < 400 ? null : body.code];
      }),
    );

  /** Waits until the viewer's request for the members answers `status` (gateways hear of access changes a moment after they are announced). */
  const membersAnswer = (status: number, timeoutMs = 2000) =>
    eventually(async () => ((await call('viewer', 'GET', `/api/workspaces/${archived.slug}/members`)).status === status ? true : undefined), timeoutMs, 20);

  it('answers 404 to its members on every operation of every service from the archive on, and organization Owners and Admins still reach it', async () => {
    // Membership took the archive in before the archive answered: no event was relayed yet.
    expect(await query(`select count(*)::int as pending from "${stack.schemas.workspaces}".outbox where job_name = 'workspace.archived' and published_at is null`)).toEqual([
      { pending: listJobs().filter((job) => job.name === 'workspace.archived').length },
    ]);
    await membersAnswer(404);
    for (const persona of members) {
      expect({ persona, answers: await answersOf(persona) }).toEqual({ persona, answers: lookups.map((path) => [path, 404, 'workspace_not_found']) });
    }
    expect(await call('admin', 'PATCH', `/api/workspaces/${archived.slug}/members/${archived.userIds.viewer}`, { role: 'EDITOR' })).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
    expect(await query(`select role from "${stack.schemas.membership}".workspace_memberships where workspace_slug = $1 and user_id = $2`, [archived.slug, archived.userIds.viewer])).toEqual([{ role: 'VIEWER' }]);
    for (const persona of ['owner', 'organizationAdmin'] as const) {
      expect(await call(persona, 'GET', `/api/workspaces/${archived.slug}/members`)).toMatchObject({ status: 200 });
      expect(await call(persona, 'GET', `/api/workspaces/${archived.slug}/files`)).toMatchObject({ status: 200 });
    }
  });

  it('is hidden by the workspace.archived event too, when membership missed the call', async () => {
    // As if the call after the commit had failed: membership does not know, and the gateway forgot what it knew.
    await query(`delete from "${stack.schemas.membership}".archived_workspaces where workspace_slug = $1`, [archived.slug]);
    await relayRedis.publish(accessChangedChannel(stack.queuePrefix), archived.userIds.viewer);
    await membersAnswer(200);
    await relay.relay.runOnce();
    await membersAnswer(404, 10_000);
  });

  it('keeps its slug: a new workspace of the same name gets another', async () => {
    const again = await call('owner', 'POST', '/api/workspaces', { name: 'Old Project' });
    expect(again.status).toBe(201);
    expect(again.body.slug).toMatch(/^old-project-[0-9a-f]{6}$/);
  });

  it('shows it to organization Owners and Admins in the archived list, and to nobody else', async () => {
    expect(await listed('organizationAdmin', '&archived=true')).toContain(archived.slug);
    const [entry] = (await call('owner', 'GET', '/api/workspaces?archived=true&query=old')).body.items;
    expect(entry).toMatchObject({ slug: archived.slug, archivedAt: expect.any(String) });
    expect(await call('admin', 'GET', '/api/workspaces?archived=true')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });

  it('is restored by an organization Admin only (it is gone for its members, its Admin included), which brings every lookup back; an active workspace is a 409', async () => {
    for (const persona of ['admin', 'viewer', 'outsider'] as const) {
      expect(await call(persona, 'POST', `/api/workspaces/${archived.slug}/restore`)).toMatchObject({ status: 404, body: { code: 'workspace_not_found' } });
    }

    const restored = await call('organizationAdmin', 'POST', `/api/workspaces/${archived.slug}/restore`);
    expect(restored).toMatchObject({ status: 200, body: { slug: archived.slug, name: 'Old Project' } });
    expect(restored.body.archivedAt).toBeUndefined();
    expect(await listed('viewer')).toContain(archived.slug);
    const consumers = listJobs().filter((job) => job.name === 'workspace.restored').map((job) => job.queue).sort();
    expect(consumers).toContain('membership');
    const events = await query(`select queue, payload from "${stack.schemas.workspaces}".outbox where job_name = 'workspace.restored' order by queue`);
    expect(events).toEqual(consumers.map((queue) => ({ queue, payload: { workspaceId: archived.id, slug: archived.slug, actorId: archived.userIds.organizationAdmin } })));

    // Every service's view comes back for its members with the restore (its event is not relayed here).
    await membersAnswer(200);
    expect(await call('viewer', 'GET', `/api/workspaces/${archived.slug}`)).toMatchObject({ status: 200 });
    // (The database is `not_found` here: no databases worker ran to set it up.)
    for (const persona of members) expect({ persona, hidden: (await answersOf(persona)).filter(([, , code]) => code === 'workspace_not_found') }).toEqual({ persona, hidden: [] });
    expect(await call('viewer', 'GET', `/api/workspaces/${archived.slug}/members`)).toMatchObject({ status: 200 });
    expect(await call('admin', 'GET', `/api/workspaces/${archived.slug}/audit`)).toMatchObject({ status: 200 });

    expect(await call('owner', 'POST', `/api/workspaces/${archived.slug}/restore`)).toMatchObject({ status: 409, body: { code: 'conflict' } });
    // An active workspace's own Admin is told restoring is not theirs.
    expect(await call('admin', 'POST', `/api/workspaces/${archived.slug}/restore`)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });

  it('is restored by the organization Owner too', async () => {
    expect(await call('admin', 'POST', `/api/workspaces/${archived.slug}/archive`)).toMatchObject({ status: 200 });
    const restored = await call('owner', 'POST', `/api/workspaces/${archived.slug}/restore`);
    expect(restored).toMatchObject({ status: 200, body: { slug: archived.slug } });
    expect(restored.body.archivedAt).toBeUndefined();
    expect(await call('viewer', 'GET', `/api/workspaces/${archived.slug}`)).toMatchObject({ status: 200 });
  });

  it('refuses a body with a field', async () => {
    const response = await call('admin', 'POST', `/api/workspaces/${archived.slug}/archive`, { reason: 'done' });
    expect(response).toMatchObject({ status: 400, body: { errors: [{ field: 'body/reason', message: 'unknown field "reason"' }] } });
  });
});

describe('when a home page is read', () => {
  it('serves the rendering stored when it was written, without rendering again', async () => {
    await as('editor', 'PUT', '/description', { markdown: '# Stored' });
    await query(`update "${stack.schemas.workspaces}".workspaces set description_html = '<p>as stored</p>' where id = $1`, [workspace.id]);
    expect((await as('viewer', 'GET', '')).body.descriptionHtml).toBe('<p>as stored</p>');
  });

  it('renders a page stored by an older renderer (or before renderings were stored) again, and stores the new rendering', async () => {
    await query(`update "${stack.schemas.workspaces}".workspaces set description = '# Old <script>x</script>', description_html = '<p>stale</p>', description_html_version = 0 where id = $1`, [workspace.id]);
    expect((await as('viewer', 'GET', '')).body.descriptionHtml).toBe('<h1>Old </h1>\n');
    expect(await query(`select description_html, description_html_version from "${stack.schemas.workspaces}".workspaces where id = $1`, [workspace.id])).toEqual([
      { description_html: '<h1>Old </h1>\n', description_html_version: 1 },
    ]);
    await query(`update "${stack.schemas.workspaces}".workspaces set description_html = null, description_html_version = null where id = $1`, [workspace.id]);
    expect((await as('viewer', 'GET', '')).body.descriptionHtml).toBe('<h1>Old </h1>\n');
  });
});
