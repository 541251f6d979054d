import { ownerLogin, startStack, type Stack } from './stack.js';

let stack: Stack;
let owner: string;
beforeAll(async () => {
  stack = await startStack();
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
  // Created out of name order, to show that the list sorts.
  for (const name of ['Paging E', 'Paging b', 'Paging D', 'Paging a', 'Paging C', '100% Coverage', '100 Coverage']) {
    const response = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name } });
    expect(response.statusCode).toBe(201);
  }
});
afterAll(() => stack.close());

async function list(query: string, token = owner) {
  const response = await stack.call({ method: 'GET', url: `/api/workspaces?${query}`, token });
  return { status: response.statusCode, body: response.json() };
}

describe('when a user pages through workspaces', () => {
  it('answers each page in name order, case-insensitively, with the totals', async () => {
    const pages = [await list('query=paging&perPage=2&page=1'), await list('query=paging&perPage=2&page=2'), await list('query=paging&perPage=2&page=3')];
    expect(pages.map((page) => page.status)).toEqual([200, 200, 200]);
    expect(pages.map((page) => page.body.items.map((item: { name: string }) => item.name))).toEqual([
      ['Paging a', 'Paging b'],
      ['Paging C', 'Paging D'],
      ['Paging E'],
    ]);
    for (const [index, page] of pages.entries()) {
      expect(page.body).toMatchObject({ page: index + 1, perPage: 2, totalItems: 5, totalPages: 3 });
    }
  });

  it('answers an empty page past the end, with the same totals', async () => {
    expect(await list('query=paging&perPage=2&page=4')).toEqual({ status: 200, body: { items: [], page: 4, perPage: 2, totalItems: 5, totalPages: 3, totalItemsCapped: false, nextCursor: null } });
  });

  it('matches the search text literally: % and _ are not wildcards', async () => {
    const percent = await list('query=%25');
    expect(percent.body.items.map((item: { name: string }) => item.name)).toEqual(['100% Coverage']);
    expect((await list('query=_')).body.totalItems).toBe(0);
  });

  it('answers 400 invalid_input for a page below 1, a perPage above 100, a word for a number or an unknown parameter', async () => {
    for (const query of ['page=0', 'perPage=101', 'perPage=0', 'page=two', 'sort=name']) {
      const answer = await list(query);
      expect({ query, status: answer.status, code: answer.body.code }).toEqual({ query, status: 400, code: 'invalid_input' });
    }
  });
});

describe('when a user who belongs to no workspace lists workspaces', () => {
  it('answers an empty list, while an organization Admin sees them all', async () => {
    const member = await stack.createUser('nobody@example.org', 'MEMBER');
    expect((await list('', member.token)).body).toEqual({ items: [], page: 1, perPage: 20, totalItems: 0, totalPages: 0, totalItemsCapped: false, nextCursor: null });
    const admin = await stack.createUser('ada@example.org', 'ADMIN');
    const all = await list('perPage=100', admin.token);
    expect(all.body.totalItems).toBe(7);
    expect(all.body.items.every((item: { role: string }) => item.role === 'ADMIN')).toBe(true);
  });
});

describe('when a user asks for the countries', () => {
  it('answers every ISO 3166-1 country with its English name, sorted by name', async () => {
    const response = await stack.call({ method: 'GET', url: '/api/countries', token: owner });
    expect(response.statusCode).toBe(200);
    const countries = response.json<{ code: string; name: string }[]>();
    // Exactly the 249 codes of ISO 3166-1 alpha-2: no user-assigned one such as Kosovo's XK.
    expect(countries).toHaveLength(249);
    expect(countries.find((country) => country.code === 'XK')).toBeUndefined();
    expect(countries).toContainEqual({ code: 'BF', name: 'Burkina Faso' });
    expect(countries.find((country) => country.code === 'CD')?.name).toMatch(/Congo/);
    expect(countries.every((country) => /^[A-Z]{2}$/.test(country.code))).toBe(true);
    const names = countries.map((country) => country.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en')));
  });

  it('answers 401 unauthenticated without a token', async () => {
    const response = await stack.call({ method: 'GET', url: '/api/countries' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'unauthenticated' });
  });
});
