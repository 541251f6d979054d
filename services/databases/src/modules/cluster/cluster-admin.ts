import pg from 'pg';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import { assertRoleName, scramVerifier, scramVerifierMatches } from '@hexa/kit';

export interface ClusterAdminOptions {
  /** A superuser of the workspace cluster (development: its Unix socket). Used for this set-up only. */
  superuserUrl: string;
  /** The platform's admin login, e.g. `hexa_workspace_admin`. */
  role: string;
  /** Its password (sent as a SCRAM verifier). */
  password: string;
}

/** Serialises concurrent set-ups on the cluster's maintenance database (arbitrary constant: "hexa-wsc"). */
const setupLockKey = 0x68657863;
/** Two set-ups at once may still cross on the catalogue; the loser retries and finds the winner's work. */
const maxAttempts = 5;
/** Printable ASCII, as `ensureServiceRole` requires: the verifier computed here is then the server's. */
const passwordPattern = /^[\x20-\x7e]{16,256}$/;

/**
 * Makes the platform's admin login on the workspace cluster: `LOGIN CREATEDB
 * CREATEROLE`, not a superuser, and nothing else. It creates the workspace
 * databases and logins and nothing more is needed; a superuser would also
 * read every workspace's data. PUBLIC loses CONNECT (and TEMPORARY) on the
 * cluster's `postgres` and `template1` databases, so workspace logins can
 * reach their own database only; the admin keeps CONNECT on `postgres`.
 *
 * Idempotent: changes only what differs (the password when the stored
 * verifier does not match), under an advisory lock, retried when two set-ups
 * cross. Run as a superuser: `npm start` and the tests do, through the
 * development cluster's socket; production runs the SQL of
 * docs/operations.md once instead.
 *
 * @example
 * await ensureClusterAdmin({ superuserUrl: 'postgres://postgres@localhost:5433/postgres?host=/var/run/postgresql', role: 'hexa_workspace_admin', password });
 */
export async function ensureClusterAdmin(options: ClusterAdminOptions): Promise<string[]> {
  assertRoleName(options.role);
  if (!passwordPattern.test(options.password)) throw new Error(`The password of ${options.role} must be 16 to 256 printable ASCII characters`);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: options.superuserUrl, max: 1 }) }) });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().execute((trx) => converge(trx, options));
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= maxAttempts || !['23505', '42710', '40001', '40P01', 'XX000'].includes(code ?? '')) throw error;
      }
    }
  } finally {
    await db.destroy();
  }
}

async function converge(trx: Transaction<unknown>, options: ClusterAdminOptions): Promise<string[]> {
  const { role, password } = options;
  const changes: string[] = [];
  await sql`select pg_advisory_xact_lock(${setupLockKey})`.execute(trx);
  const [me] = (await sql<{ superuser: boolean }>`select rolsuper as superuser from pg_roles where rolname = current_user`.execute(trx)).rows;
  if (!me?.superuser) throw new Error('Setting up the workspace cluster needs a superuser connection');

  const [existing] = (
    await sql<{ rolsuper: boolean; wrong: boolean; rolpassword: string | null }>`
      select rolsuper, (not rolcanlogin or not rolcreatedb or not rolcreaterole or rolreplication or rolbypassrls
                        or coalesce(rolvaliduntil < 'infinity', false)) as wrong, rolpassword
      from pg_authid where rolname = ${role}`.execute(trx)
  ).rows;
  if (!existing) {
    await sql`create role ${sql.id(role)} with login createdb createrole nosuperuser noreplication nobypassrls password ${sql.lit(scramVerifier(password))}`.execute(trx);
    changes.push(`created role ${role} (LOGIN CREATEDB CREATEROLE)`);
  } else {
    if (existing.rolsuper) throw new Error(`Role ${role} is a superuser; the platform's admin login must not be one, and this set-up does not demote superusers`);
    if (existing.wrong) {
      await sql`alter role ${sql.id(role)} with login createdb createrole noreplication nobypassrls valid until 'infinity'`.execute(trx);
      changes.push(`set role ${role} to LOGIN CREATEDB CREATEROLE`);
    }
    if (!scramVerifierMatches(existing.rolpassword, password)) {
      await sql`alter role ${sql.id(role)} with password ${sql.lit(scramVerifier(password))}`.execute(trx);
      changes.push(`set the password of ${role}`);
    }
  }

  const acl = (
    await sql<{ datname: string; privilege: string; grantee: string }>`
      select d.datname, a.privilege_type as privilege, case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end as grantee
      from pg_database d cross join lateral aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
      where d.datname in ('postgres', 'template1')`.execute(trx)
  ).rows;
  const has = (datname: string, grantee: string, privilege: string) => acl.some((row) => row.datname === datname && row.grantee === grantee && row.privilege === privilege);
  for (const datname of ['postgres', 'template1']) {
    if (has(datname, 'public', 'CONNECT') || has(datname, 'public', 'TEMPORARY')) {
      await sql`revoke connect, temporary on database ${sql.id(datname)} from public`.execute(trx);
      changes.push(`revoked CONNECT and TEMPORARY on ${datname} from PUBLIC`);
    }
  }
  if (!has('postgres', role, 'CONNECT')) {
    await sql`grant connect on database postgres to ${sql.id(role)}`.execute(trx);
    changes.push(`granted CONNECT on postgres to ${role}`);
  }
  return changes;
}
