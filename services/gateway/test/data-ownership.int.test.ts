import { query, queryAs, testRole, testRoleUrl } from '@hexa/testing';
import { ownerLogin, startStack, type Stack } from './stack.js';

// The whole platform, each service connected as its own PostgreSQL role (as `npm start` and production run it):
// a service that wanted another's data would have to ask for it, because the database says no.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  // Data in both schemas, and both services' pools in use.
  const token = await stack.login(ownerLogin.email, ownerLogin.password);
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Owned Data' } });
  if (created.statusCode !== 201) throw new Error(`workspace not created: ${created.statusCode} ${created.body}`);
});
afterAll(() => stack.close());

/** The PostgreSQL error code of `text` run as `service`'s role, or 'ok'. */
async function codeAs(service: 'membership' | 'workspaces', text: string): Promise<string> {
  try {
    await queryAs(testRoleUrl(service), text);
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('when the platform runs', () => {
  it("each service's pool is logged in as that service's role", async () => {
    for (const service of ['membership', 'workspaces'] as const) {
      // createDatabase names its sessions after the schema, which is this stack's alone.
      const sessions = await query<{ usename: string }>('select usename from pg_stat_activity where application_name = $1', [`hexa:${stack.schemas[service]}`]);
      expect(sessions.length).toBeGreaterThan(0);
      expect(new Set(sessions.map((session) => session.usename))).toEqual(new Set([testRole(service)]));
    }
  });

  it("each service's role owns its schema and every table in it", async () => {
    for (const service of ['membership', 'workspaces'] as const) {
      const owners = await query<{ owner: string }>(
        `select r.rolname as owner from pg_namespace n join pg_roles r on r.oid = n.nspowner where n.nspname = $1
         union select tableowner from pg_tables where schemaname = $1`,
        [stack.schemas[service]],
      );
      expect(owners).toEqual([{ owner: testRole(service) }]);
    }
  });
});

describe("when membership's role reaches for the workspaces schema", () => {
  it('is refused reading and writing it (42501 permission denied)', async () => {
    const workspaces = `"${stack.schemas.workspaces}"`;
    expect(await codeAs('membership', `select slug from ${workspaces}.workspaces`)).toBe('42501');
    expect(await codeAs('membership', `update ${workspaces}.workspaces set name = 'taken over'`)).toBe('42501');
    expect(await codeAs('membership', `delete from ${workspaces}.outbox`)).toBe('42501');
    expect(await codeAs('membership', `create table ${workspaces}.planted (id int)`)).toBe('42501');
    // Its own schema is open to it.
    expect(await codeAs('membership', `select email from "${stack.schemas.membership}".users`)).toBe('ok');
    expect(await query(`select name from ${workspaces}.workspaces`)).toEqual([{ name: 'Owned Data' }]);
  });
});

describe("when workspaces' role reaches for the membership schema", () => {
  it('is refused reading and writing it (42501 permission denied)', async () => {
    const membership = `"${stack.schemas.membership}"`;
    expect(await codeAs('workspaces', `select password_hash from ${membership}.users`)).toBe('42501');
    expect(await codeAs('workspaces', `update ${membership}.users set organization_role = 'OWNER'`)).toBe('42501');
    expect(await codeAs('workspaces', `insert into ${membership}.workspace_memberships (workspace_slug, workspace_id, user_id, role) values ('x', gen_random_uuid(), gen_random_uuid(), 'ADMIN')`)).toBe('42501');
    expect(await codeAs('workspaces', `drop table ${membership}.refresh_tokens`)).toBe('42501');
    expect(await codeAs('workspaces', `select slug from "${stack.schemas.workspaces}".workspaces`)).toBe('ok');
    expect(await query(`select organization_role from ${membership}.users`)).toEqual([{ organization_role: 'OWNER' }]);
  });
});
