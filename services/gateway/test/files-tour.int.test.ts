import { ownerLogin, startStack, type Stack } from './stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

// The files and connections lines of the README tour, request for request (the workspace lines are in
// workspace-tour.int.test.ts).
describe('when the owner follows the README tour of files and connections', () => {
  it('uploads, lists, downloads and moves a file, creates a connection with its secret masked, and tests it', async () => {
    const token = await stack.login(ownerLogin.email, ownerLogin.password);
    const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object | string, headers: Record<string, string> = {}) => {
      const response = await stack.call({ method, url: `/api${url}`, token, headers, ...(payload !== undefined ? { payload } : {}) });
      return { status: response.statusCode, headers: response.headers, body: response.body, json: () => response.json() };
    };
    expect((await call('POST', '/workspaces', { name: 'Malaria Burkina Faso', countries: ['BF'] })).status).toBe(201);

    // curl -X PUT --data-binary @cases.csv sends application/x-www-form-urlencoded: the body is stored as sent.
    const csv = 'district,reported\nBobo-Dioulasso,12\nBanfora,3\n';
    const uploaded = await call('PUT', '/workspaces/malaria-burkina-faso/files/reports/2026/cases.csv', csv, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(uploaded).toMatchObject({ status: 201 });
    expect(uploaded.json()).toMatchObject({ path: 'reports/2026/cases.csv', size: csv.length, contentType: 'text/csv' });
    const listing = await call('GET', '/workspaces/malaria-burkina-faso/files?prefix=reports/2026');
    expect(listing.json()).toMatchObject({ prefix: 'reports/2026', items: [{ name: 'cases.csv', type: 'file', size: csv.length }], totalItems: 1 });
    // curl -OJ names the saved file from Content-Disposition.
    const download = await call('GET', '/workspaces/malaria-burkina-faso/files/reports/2026/cases.csv');
    expect(download).toMatchObject({ status: 200, body: csv });
    expect(download.headers['content-disposition']).toBe(`attachment; filename="cases.csv"; filename*=UTF-8''cases.csv`);
    const moved = await call('POST', '/workspaces/malaria-burkina-faso/files/move', { from: 'reports/2026/cases.csv', to: 'archive/cases-2026.csv' });
    expect(moved).toMatchObject({ status: 200 });
    expect(moved.json()).toMatchObject({ path: 'archive/cases-2026.csv', size: csv.length });

    const connection = await call('POST', '/workspaces/malaria-burkina-faso/connections', {
      name: 'Warehouse',
      type: 'POSTGRESQL',
      fields: [
        { code: 'host', value: '127.0.0.1', secret: false },
        { code: 'port', value: '5433', secret: false },
        { code: 'dbName', value: 'warehouse', secret: false },
        { code: 'username', value: 'analyst', secret: false },
        { code: 'password', value: 's3cret', secret: true },
      ],
    });
    expect(connection.status).toBe(201);
    expect(connection.json()).toMatchObject({ slug: 'warehouse', fields: expect.arrayContaining([{ code: 'password', secret: true, value: null, env: 'WAREHOUSE_PASSWORD' }]) });
    expect(connection.body).not.toContain('s3cret');
    // The tour's warehouse is an example: the test answers 200 with the server's verdict either way, never the password.
    const tested = await call('POST', '/workspaces/malaria-burkina-faso/connections/warehouse/test');
    expect(tested.status).toBe(200);
    expect(tested.json()).toEqual({ ok: expect.any(Boolean), message: expect.any(String), durationMs: expect.any(Number) });
    expect(tested.body).not.toContain('s3cret');
  });
});
