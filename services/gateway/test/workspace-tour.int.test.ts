import { ownerLogin, startStack, type Stack } from './stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

// The workspace lines of the README tour, request for request.
describe('when the owner follows the README tour of a workspace', () => {
  it('lists the countries, edits the home page and settings, sets configuration with If-Match and deletes a key, reads the audit trail, archives and restores', async () => {
    const token = await stack.login(ownerLogin.email, ownerLogin.password);
    const call = async (method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) => {
      const response = await stack.call({ method, url: `/api${url}`, token, headers, ...(payload ? { payload } : {}) });
      return { status: response.statusCode, headers: response.headers, body: response.json() };
    };
    const countries = await call('GET', '/countries');
    expect(countries).toMatchObject({ status: 200, body: expect.arrayContaining([{ code: 'BF', name: 'Burkina Faso' }]) });
    expect((await call('POST', '/workspaces', { name: 'Malaria Burkina Faso', countries: ['BF'] })).status).toBe(201);
    const page = await call('PUT', '/workspaces/malaria-burkina-faso/description', { markdown: '# Malaria\n\nWeekly cases from [DHIS2](https://dhis2.example.org).' });
    expect(page.body.descriptionHtml).toBe('<h1>Malaria</h1>\n<p>Weekly cases from <a href="https://dhis2.example.org" rel="noopener noreferrer" target="_blank">DHIS2</a>.</p>\n');
    const settings = await call('PATCH', '/workspaces/malaria-burkina-faso', { countries: ['BF', 'ML'], dockerImage: 'python:3.12' });
    expect(settings.body).toMatchObject({ countries: [{ code: 'BF', name: 'Burkina Faso' }, { code: 'ML', name: 'Mali' }], dockerImage: 'python:3.12', effectiveImage: 'python:3.12' });
    expect((await call('GET', '/workspaces/malaria-burkina-faso/configuration')).headers.etag).toBe('"configuration-0"');
    expect((await call('PUT', '/workspaces/malaria-burkina-faso/configuration/max_rows', { value: 1000 })).headers.etag).toBe('"configuration-1"');
    const replaced = await call('PUT', '/workspaces/malaria-burkina-faso/configuration', { properties: { max_rows: 500, region: 'sahel' } }, { 'if-match': '"configuration-1"' });
    expect(replaced).toMatchObject({ status: 200, body: { properties: { max_rows: 500, region: 'sahel' } } });
    const deleted = await call('DELETE', '/workspaces/malaria-burkina-faso/configuration/region');
    expect(deleted).toMatchObject({ status: 200, headers: { etag: '"configuration-3"' } });
    expect(deleted.body.properties).toEqual({ max_rows: 500 });
    expect((await call('GET', '/workspaces/malaria-burkina-faso/audit')).status).toBe(200);
    expect((await call('POST', '/workspaces/malaria-burkina-faso/archive')).status).toBe(200);
    expect((await call('GET', '/workspaces?archived=true')).body.items).toEqual([expect.objectContaining({ slug: 'malaria-burkina-faso' })]);
    expect((await call('POST', '/workspaces/malaria-burkina-faso/restore')).status).toBe(200);
  });
});
