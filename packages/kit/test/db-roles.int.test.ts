import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databaseLogin, ensureServiceRole, serviceDatabaseUrl } from '../src/db-roles.js';

// Against the real test database, as a superuser provisions it (the kit cannot use @hexa/testing, which depends on it).
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hexa_test';
const database = databaseLogin(adminUrl).database;
const password = 'a service role password';

const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function admin<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  return withClient(adminUrl, async (client) => (await client.query<T>(text, values)).rows);
}

/** Runs `text` logged in as `role`; returns the PostgreSQL error code, or 'ok'. */
async function asRole(role: string, text: string): Promise<string> {
  return withClient(serviceDatabaseUrl(adminUrl, role, password), async (client) => {
    try {
      await client.query(text);
      return 'ok';
    } catch (error) {
      return (error as { code: string }).code;
    }
  });
}

/** Everything provisioning decides about a role and its schema, read from the catalogs. */
async function stateOf(role: string, schema: string) {
  const [roleRow] = await admin(
    `select xmin::text as version, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolvaliduntil, rolpassword
     from pg_authid where rolname = $1`,
    [role],
  );
  const [schemaRow] = await admin(`select n.xmin::text as version, r.rolname as owner, n.nspacl::text as acl from pg_namespace n join pg_roles r on r.oid = n.nspowner where nspname = $1`, [schema]);
  const databasePrivileges = await admin(
    `select case when a.grantee = 0 then 'PUBLIC' else g.rolname end as grantee, a.privilege_type
     from pg_database d cross join lateral aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a left join pg_roles g on g.oid = a.grantee
     where d.datname = current_database() and (a.grantee = 0 or g.rolname = $1) order by 1, 2`,
    [role],
  );
  const memberships = await admin(`select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid join pg_roles r on r.oid = m.member where r.rolname = $1`, [role]);
  return { role: roleRow, schema: schemaRow, databasePrivileges, memberships };
}

const created: { roles: string[]; schemas: string[] } = { roles: [], schemas: [] };
function fresh(): { role: string; schema: string } {
  const names = { role: unique('t_role'), schema: unique('t_schema') };
  created.roles.push(names.role);
  created.schemas.push(names.schema);
  return names;
}

afterAll(async () => {
  for (const schema of created.schemas) await admin(`drop schema if exists "${schema}" cascade`);
  for (const role of created.roles) {
    const [exists] = await admin('select 1 from pg_roles where rolname = $1', [role]);
    if (!exists) continue;
    await admin(`drop owned by "${role}"`);
    await admin(`drop role "${role}"`);
  }
});

describe('ensureServiceRole', () => {
  describe('when a name is not a plain identifier', () => {
    // Nowhere to connect: a refused name must fail before any SQL is sent.
    const nowhere = 'postgres://postgres@127.0.0.1:1/nowhere';

    it.each(['Hexa_membership', 'hexa-membership', 'hexa membership', 'a"b', 'x; drop role postgres', 'pg_hexa', '1hexa', '', 'a'.repeat(64)])(
      'refuses the role name %j',
      async (role) => {
        await expect(ensureServiceRole({ adminUrl: nowhere, role, password, schema: 'membership' })).rejects.toThrow(/^Invalid role name/);
        expect(() => serviceDatabaseUrl(adminUrl, role, password)).toThrow(/^Invalid role name/);
      },
    );

    it.each(['public', 'pg_catalog', 'pg_temp', 'information_schema', 'Membership', 'a.b', '"x"', 'x; drop schema membership', '', 'a'.repeat(64)])(
      'refuses the schema name %j',
      async (schema) => {
        await expect(ensureServiceRole({ adminUrl: nowhere, role: 'hexa_membership', password, schema })).rejects.toThrow(/^Invalid schema name/);
      },
    );

    it.each(['short', 'x'.repeat(257), 'sixteen chars but ünicode', 'sixteen chars and a\nnewline'])('refuses the password %j', async (bad) => {
      await expect(ensureServiceRole({ adminUrl: nowhere, role: 'hexa_membership', password: bad, schema: 'membership' })).rejects.toThrow(
        /^The password of role hexa_membership must be 16 to 256 printable ASCII characters$/,
      );
    });
  });

  describe('on a fresh database', () => {
    it('creates a login role that owns its schema, may connect, and may do nothing else', async () => {
      const { role, schema } = fresh();
      const report = await ensureServiceRole({ adminUrl, role, password, schema });
      expect(report).toEqual({
        role,
        schema,
        database,
        changes: expect.arrayContaining([`created role ${role}`, `granted CONNECT on database ${database} to ${role}`, `created schema ${schema} owned by ${role}`]),
      });
      const state = await stateOf(role, schema);
      expect(state.role).toMatchObject({ rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, rolvaliduntil: null });
      // The password reaches PostgreSQL as a SCRAM verifier only.
      expect(state.role!.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(state.schema).toMatchObject({ owner: role, acl: null });
      // Only the role's own CONNECT: PUBLIC may neither connect to the platform database nor make temporary tables there.
      expect(state.databasePrivileges).toEqual([{ grantee: role, privilege_type: 'CONNECT' }]);
      expect(state.memberships).toEqual([]);

      const [session] = await withClient(serviceDatabaseUrl(adminUrl, role, password), async (client) =>
        (await client.query('select current_user, has_database_privilege(current_database(), $1) as create, has_database_privilege(current_database(), $2) as temp', ['CREATE', 'TEMP'])).rows,
      );
      expect(session).toEqual({ current_user: role, create: false, temp: false });
    });

    it('refuses a connection that is not a superuser, and changes nothing', async () => {
      const { role, schema } = fresh();
      await ensureServiceRole({ adminUrl, role, password, schema });
      const other = fresh();
      await expect(ensureServiceRole({ adminUrl: serviceDatabaseUrl(adminUrl, role, password), role: other.role, password, schema: other.schema })).rejects.toThrow(
        'Provisioning a service role needs a superuser connection',
      );
      expect(await admin('select 1 from pg_roles where rolname = $1', [other.role])).toEqual([]);
    });
  });

  describe('when provisioning runs again', () => {
    it('changes nothing, not even the version of a catalog row', async () => {
      const { role, schema } = fresh();
      await ensureServiceRole({ adminUrl, role, password, schema });
      const before = await stateOf(role, schema);
      expect(await ensureServiceRole({ adminUrl, role, password, schema })).toEqual({ role, schema, database, changes: [] });
      expect(await stateOf(role, schema)).toEqual(before);
    });

    it('sets a new password, and only the password, when it changed', async () => {
      const { role, schema } = fresh();
      await ensureServiceRole({ adminUrl, role, password, schema });
      const before = await stateOf(role, schema);
      const report = await ensureServiceRole({ adminUrl, role, password: 'another service role password', schema });
      expect(report.changes).toEqual([`set the password of role ${role}`]);
      const after = await stateOf(role, schema);
      expect(after.role!.rolpassword).not.toBe(before.role!.rolpassword);
      expect(after.schema).toEqual(before.schema);
    });

    it('recognises a password PostgreSQL itself hashed, and takes away what a service role must not have', async () => {
      const { role, schema } = fresh();
      const other = unique('t_role');
      created.roles.push(other);
      // A role an operator made by hand: the same password, but too many rights.
      await admin(`create role "${other}"`);
      await admin(`create role "${role}" login createdb createrole bypassrls valid until '2030-01-01' password '${password}'`);
      await admin(`grant "${other}" to "${role}"`);
      const report = await ensureServiceRole({ adminUrl, role, password, schema });
      expect(report.changes).toContain(`reduced role ${role} to login only`);
      expect(report.changes).toContain(`revoked role ${other} from ${role}`);
      expect(report.changes).not.toContain(`set the password of role ${role}`);
      const state = await stateOf(role, schema);
      expect(state.role).toMatchObject({ rolcanlogin: true, rolcreatedb: false, rolcreaterole: false, rolbypassrls: false });
      expect(state.memberships).toEqual([]);
      expect((await ensureServiceRole({ adminUrl, role, password, schema })).changes).toEqual([]);
    });
  });

  describe('when provisioners run in parallel', () => {
    it('all succeed on one database, and the result is what one run makes', async () => {
      const { role, schema } = fresh();
      const reports = await Promise.all(Array.from({ length: 4 }, () => ensureServiceRole({ adminUrl, role, password, schema })));
      // One of them did the work; the others, serialised behind it, found nothing to do.
      expect(reports.filter((report) => report.changes.length > 0)).toHaveLength(1);
      expect(reports.filter((report) => report.changes.length === 0)).toHaveLength(3);
      const state = await stateOf(role, schema);
      expect(state.schema).toMatchObject({ owner: role });
      expect(state.databasePrivileges).toEqual([{ grantee: role, privilege_type: 'CONNECT' }]);
    });

    it('all succeed on two databases of one cluster, where no lock serialises them', async () => {
      const { role, schema } = fresh();
      const otherDatabase = unique('t_db');
      await admin(`create database "${otherDatabase}"`);
      const otherUrl = new URL(adminUrl);
      otherUrl.pathname = `/${otherDatabase}`;
      try {
        const runs = [adminUrl, otherUrl.toString(), adminUrl, otherUrl.toString()].map((url) => ensureServiceRole({ adminUrl: url, role, password, schema }));
        const reports = await Promise.all(runs);
        expect(reports.filter((report) => report.changes.includes(`created role ${role}`))).toHaveLength(1);
        const owners = await withClient(otherUrl.toString(), async (client) => (await client.query('select r.rolname from pg_namespace n join pg_roles r on r.oid = n.nspowner where nspname = $1', [schema])).rows);
        expect(owners).toEqual([{ rolname: role }]);
      } finally {
        await admin(`drop database "${otherDatabase}" with (force)`);
      }
    });
  });

  describe('when two services are provisioned', () => {
    it("neither role can read, write or add to the other's schema, nor anywhere else", async () => {
      const membership = fresh();
      const workspaces = fresh();
      await ensureServiceRole({ adminUrl, password, ...membership });
      await ensureServiceRole({ adminUrl, password, ...workspaces });
      for (const own of [membership, workspaces]) {
        expect(await asRole(own.role, `create table "${own.schema}".items (id int primary key, secret text)`)).toBe('ok');
        expect(await asRole(own.role, `insert into "${own.schema}".items values (1, 'mine')`)).toBe('ok');
      }
      for (const [self, other] of [[membership, workspaces], [workspaces, membership]] as const) {
        // 42501 insufficient_privilege: the schema itself is closed to it.
        expect(await asRole(self.role, `select * from "${other.schema}".items`)).toBe('42501');
        expect(await asRole(self.role, `insert into "${other.schema}".items values (2, 'theirs')`)).toBe('42501');
        expect(await asRole(self.role, `update "${other.schema}".items set secret = 'changed'`)).toBe('42501');
        expect(await asRole(self.role, `delete from "${other.schema}".items`)).toBe('42501');
        expect(await asRole(self.role, `create table "${other.schema}".planted (id int)`)).toBe('42501');
        expect(await asRole(self.role, `drop table "${other.schema}".items`)).toBe('42501');
        // Nor a new schema, a table in public, or a temporary table.
        expect(await asRole(self.role, `create schema "${unique('t_extra')}"`)).toBe('42501');
        expect(await asRole(self.role, 'create table public.planted (id int)')).toBe('42501');
        expect(await asRole(self.role, 'create temporary table scratch (id int)')).toBe('42501');
      }
      expect(await admin(`select secret from "${workspaces.schema}".items`)).toEqual([{ secret: 'mine' }]);
    });
  });

  describe('when the schema exists with another owner (an installation from before service roles)', () => {
    it('hands the schema and its tables, views, sequences and types to the role', async () => {
      const { role, schema } = fresh();
      await admin(`create schema "${schema}"`);
      await admin(`create type "${schema}".mood as enum ('happy', 'sad')`);
      await admin(`create table "${schema}".items (id serial primary key, mood "${schema}".mood not null)`);
      await admin(`create sequence "${schema}".tickets`);
      await admin(`create view "${schema}".happy as select id from "${schema}".items where mood = 'happy'`);
      await admin(`insert into "${schema}".items (mood) values ('happy')`);

      const report = await ensureServiceRole({ adminUrl, role, password, schema });
      expect(report.changes).toEqual(
        expect.arrayContaining([
          `transferred schema ${schema} from postgres to ${role}`,
          `transferred ${schema}.items to ${role}`,
          `transferred ${schema}.happy to ${role}`,
          `transferred ${schema}.tickets to ${role}`,
          `transferred type ${schema}.mood to ${role}`,
        ]),
      );
      const owners = await admin<{ name: string; owner: string }>(
        `select c.relname as name, r.rolname as owner from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_roles r on r.oid = c.relowner where n.nspname = $1
         union all select t.typname, r.rolname from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_roles r on r.oid = t.typowner where n.nspname = $1`,
        [schema],
      );
      expect(owners.filter((row) => row.owner !== role)).toEqual([]);
      // The service works with what it took over: the serial's sequence came with its table.
      expect(await asRole(role, `insert into "${schema}".items (mood) values ('sad')`)).toBe('ok');
      expect(await asRole(role, `select * from "${schema}".happy`)).toBe('ok');
      expect((await ensureServiceRole({ adminUrl, role, password, schema })).changes).toEqual([]);
    });

    it('refuses routines it cannot transfer safely, and leaves everything as it was', async () => {
      const { role, schema } = fresh();
      await admin(`create schema "${schema}"`);
      await admin(`create function "${schema}".answer() returns int language sql as 'select 42'`);
      await expect(ensureServiceRole({ adminUrl, role, password, schema })).rejects.toThrow(
        `Schema ${schema} holds routines another role owns (${schema}.answer()); transfer them to ${role} by hand`,
      );
      // One transaction: the role it was about to create is not there either.
      expect(await admin('select 1 from pg_roles where rolname = $1', [role])).toEqual([]);
      expect(await admin('select r.rolname as owner from pg_namespace n join pg_roles r on r.oid = n.nspowner where nspname = $1', [schema])).toEqual([{ owner: 'postgres' }]);
    });
  });

  describe('when the role is a superuser', () => {
    it('refuses and leaves it a superuser', async () => {
      const { role, schema } = fresh();
      await admin(`create role "${role}" superuser login`);
      await expect(ensureServiceRole({ adminUrl, role, password, schema })).rejects.toThrow(
        `Role ${role} is a superuser; a service role must not be one, and provisioning does not demote superusers`,
      );
      expect(await admin('select rolsuper from pg_roles where rolname = $1', [role])).toEqual([{ rolsuper: true }]);
    });
  });
});

describe('databaseLogin and serviceDatabaseUrl', () => {
  it('take the login from the URL and put one into it, encoded', () => {
    const url = serviceDatabaseUrl('postgres://postgres@db.internal:5433/hexa?sslmode=require', 'hexa_membership', 'p@ss:w/rd with space');
    expect(url).toBe('postgres://hexa_membership:p%40ss%3Aw%2Frd%20with%20space@db.internal:5433/hexa?sslmode=require');
    expect(databaseLogin(url)).toEqual({ role: 'hexa_membership', password: 'p@ss:w/rd with space', database: 'hexa' });
  });

  it('refuse a URL that cannot carry a login', () => {
    expect(() => databaseLogin('postgres:///hexa?host=/var/run/postgresql')).toThrow('A database URL must be postgres://user:password@host:port/database');
    expect(() => databaseLogin('not a url')).toThrow('Invalid database URL');
  });
});
