import { randomUUID } from 'node:crypto';
import { query } from '@hexa/testing';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { grantRole } from './workspace-personas.js';

let stack: Stack;
let owner: string;
beforeAll(async () => {
  stack = await startStack();
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
});
afterAll(() => stack.close());

async function create(name: string, token = owner): Promise<{ slug: string; id: string }> {
  const response = await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name } });
  expect(response.statusCode).toBe(201);
  return response.json();
}

async function list(token: string, parameters = '') {
  const response = await stack.call({ method: 'GET', url: `/api/workspaces?perPage=100${parameters}`, token });
  return { status: response.statusCode, body: response.json() };
}

const names = (body: { items: { name: string }[] }) => body.items.map((item) => item.name);

describe('when a member lists their workspaces', () => {
  it('answers the workspaces of their roles from the replica, with each role, without asking membership', async () => {
    const a = await create('Replica A');
    const b = await create('Replica B');
    await create('Replica C');
    const member = await stack.createUser('replica-member@example.org', 'MEMBER');
    await grantRole(stack, a, member.id, 'VIEWER');
    await grantRole(stack, b, member.id, 'EDITOR');
    const before = stack.received.length;
    const { body } = await list(member.token, '&query=replica');
    expect(body.items.map((item: { slug: string; role: string }) => [item.slug, item.role])).toEqual([[a.slug, 'VIEWER'], [b.slug, 'EDITOR']]);
    expect(stack.received.slice(before).filter((request) => request.service === 'membership' && request.url.includes('/memberships'))).toEqual([]);
  });

  it('no longer lists a workspace once the replica says the role was removed', async () => {
    const gone = await create('Replica Gone');
    const member = await stack.createUser('replica-removed@example.org', 'MEMBER');
    await grantRole(stack, gone, member.id, 'EDITOR');
    expect(names((await list(member.token)).body)).toEqual(['Replica Gone']);
    await query(`update "${stack.schemas.workspaces}".member_roles set role = null, version = 2 where workspace_id = $1 and user_id = $2`, [gone.id, member.id]);
    expect((await list(member.token)).body.items).toEqual([]);
  });

  it('follows a rename into its place in name order, and an archive out of the list and back on restore', async () => {
    const member = await stack.createUser('replica-follows@example.org', 'MEMBER');
    const first = await create('Follow Alpha');
    const second = await create('Follow Beta');
    for (const workspace of [first, second]) await grantRole(stack, workspace, member.id, 'VIEWER');
    expect(names((await list(member.token, '&query=follow')).body)).toEqual(['Follow Alpha', 'Follow Beta']);

    const renamed = await stack.call({ method: 'PATCH', url: `/api/workspaces/${first.slug}`, token: owner, payload: { name: 'Follow Zulu' } });
    expect(renamed.statusCode).toBe(200);
    expect(names((await list(member.token, '&query=follow')).body)).toEqual(['Follow Beta', 'Follow Zulu']);
    expect(names((await list(member.token, '&query=zulu')).body)).toEqual(['Follow Zulu']);

    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${second.slug}/archive`, token: owner })).statusCode).toBe(200);
    expect((await list(member.token, '&query=follow')).body).toMatchObject({ totalItems: 1, items: [expect.objectContaining({ name: 'Follow Zulu' })] });
    expect((await stack.call({ method: 'POST', url: `/api/workspaces/${second.slug}/restore`, token: owner })).statusCode).toBe(200);
    expect(names((await list(member.token, '&query=follow')).body)).toEqual(['Follow Beta', 'Follow Zulu']);
  });

  it('lists a new workspace to its creator at once, as its Admin', async () => {
    const creator = await stack.createUser('creator@example.org', 'MEMBER');
    await grantRole(stack, await create('Where Creator Is Admin'), creator.id, 'ADMIN');
    const mine = await create('Created By A Workspace Admin', creator.token);
    const { body } = await list(creator.token, '&query=created%20by');
    expect(body.items).toEqual([expect.objectContaining({ slug: mine.slug, role: 'ADMIN' })]);
  });
});

describe('when someone searches by name', () => {
  beforeAll(async () => {
    for (const name of ['Santé Publique', 'SANTE MENTALE', 'Łódź Data', 'Straße Projekt', 'Ærø Fisheries']) await create(name);
  });

  it('ignores case and accents, both in the names and in the search text', async () => {
    expect(names((await list(owner, '&query=sante')).body)).toEqual(['SANTE MENTALE', 'Santé Publique']);
    expect(names((await list(owner, '&query=SANTÉ')).body)).toEqual(['SANTE MENTALE', 'Santé Publique']);
    expect(names((await list(owner, '&query=lodz')).body)).toEqual(['Łódź Data']);
    expect(names((await list(owner, '&query=strasse')).body)).toEqual(['Straße Projekt']);
    expect(names((await list(owner, '&query=aero')).body)).toEqual(['Ærø Fisheries']);
    expect(names((await list(owner, '&query=%20%20publique%20')).body)).toEqual(['Santé Publique']);
  });

  it('sorts by the folded name, so case and accents do not reorder the list', async () => {
    expect(names((await list(owner, '&query=san')).body)).toEqual(['SANTE MENTALE', 'Santé Publique']);
  });
});

describe('when an organization has tens of thousands of workspaces', () => {
  const bulk = 10_050;
  let member: { token: string; id: string };

  beforeAll(async () => {
    // Written straight into the table (the API would take minutes): a large organization, and a member of 300 of its workspaces.
    await query(
      `insert into "${stack.schemas.workspaces}".workspaces (slug, name, search_name, description, status, created_by)
       select 'bulk-' || n, 'Bulk ' || lpad(n::text, 5, '0'), 'bulk ' || lpad(n::text, 5, '0'), '', 'ready', $1 from generate_series(1, $2) as n`,
      [randomUUID(), bulk],
    );
    member = await stack.createUser('bulk-member@example.org', 'MEMBER');
    await query(
      `insert into "${stack.schemas.workspaces}".member_roles (workspace_id, user_id, role, version, search_name, workspace_slug, active)
       select id, $1, 'VIEWER', 1, search_name, slug, true from "${stack.schemas.workspaces}".workspaces where slug like 'bulk-%' and right(slug, 2) in ('00', '33', '67') order by slug limit 300`,
      [member.id],
    );
    await query(`analyze "${stack.schemas.workspaces}".workspaces`);
    await query(`analyze "${stack.schemas.workspaces}".member_roles`);
  });

  it('counts at most 10,000 for an organization Admin and says the count is capped', async () => {
    const started = Date.now();
    const { status, body } = await list(owner, '&query=bulk');
    const elapsed = Date.now() - started;
    expect(status).toBe(200);
    expect(body).toMatchObject({ totalItems: 10_000, totalPages: 100, totalItemsCapped: true });
    expect(names(body).slice(0, 2)).toEqual(['Bulk 00001', 'Bulk 00002']);
    expect(elapsed).toBeLessThan(2000);
  });

  it('serves the last page within the window and refuses one that starts past it', async () => {
    const last = await list(owner, '&query=bulk&page=100');
    expect(names(last.body)).toEqual(Array.from({ length: 100 }, (_, index) => `Bulk ${String(9_901 + index).padStart(5, '0')}`));
    const past = await list(owner, '&query=bulk&page=101');
    expect([past.status, past.body.code, past.body.detail]).toEqual([400, 'invalid_input', 'Only the first 10000 workspaces are paged; narrow the search.']);
    expect((await list(owner, '&query=bulk%2000099')).body).toMatchObject({ totalItems: 1, totalItemsCapped: false });
  });

  it('answers the organization total from its count, capped at 10,000, without a search', async () => {
    const { body } = await list(owner);
    expect(body).toMatchObject({ page: 1, totalItems: 10_000, totalPages: 100, totalItemsCapped: true });
    const [active] = await query<{ count: string }>(`select count(*) from "${stack.schemas.workspaces}".workspaces where archived_at is null`);
    expect(Number(active!.count)).toBeGreaterThan(10_000);
  });

  it('follows nextCursor to the last page within the window, each page as the numbered one, and no further', async () => {
    let body = (await list(owner, '&query=bulk&page=97')).body;
    const numbered = await Promise.all([98, 99, 100].map(async (page) => (await list(owner, `&query=bulk&page=${page}`)).body));
    for (const expected of numbered) {
      const next = await list(owner, `&query=bulk&after=${body.nextCursor}`);
      expect(next.status).toBe(200);
      expect({ ...next.body, nextCursor: undefined }).toEqual({ ...expected, nextCursor: undefined });
      body = next.body;
    }
    expect(body.page).toBe(100);
    expect(body.nextCursor).toBeNull();
  });

  it("walks a member's whole list by cursor, in name order, ending with a null cursor", async () => {
    const seen: string[] = [];
    let body = (await list(member.token)).body;
    for (;;) {
      expect(body).toMatchObject({ totalItems: 300, totalPages: 3, page: seen.length / 100 + 1 });
      seen.push(...names(body));
      if (body.nextCursor === null) break;
      body = (await list(member.token, `&after=${body.nextCursor}`)).body;
    }
    expect(seen).toHaveLength(300);
    expect(seen).toEqual([...seen].sort());
  });

  it('refuses a cursor together with a page number, and text that is not a cursor', async () => {
    const { body } = await list(member.token);
    const both = await list(member.token, `&page=2&after=${body.nextCursor}`);
    expect([both.status, both.body.code, both.body.detail]).toEqual([400, 'invalid_input', 'Ask for a page by number or by cursor, not both.']);
    const forged = await list(member.token, '&after=bm90LWEtY3Vyc29y');
    expect([forged.status, forged.body.code]).toEqual([400, 'invalid_input']);
  });

  it("pages a member's few hundred workspaces exactly", async () => {
    const started = Date.now();
    const { body } = await list(member.token, '&page=3');
    const elapsed = Date.now() - started;
    expect(body).toMatchObject({ page: 3, perPage: 100, totalItems: 300, totalPages: 3, totalItemsCapped: false });
    expect(body.items).toHaveLength(100);
    expect(body.items.every((item: { role: string }) => item.role === 'VIEWER')).toBe(true);
    expect(elapsed).toBeLessThan(2000);
  });
});
