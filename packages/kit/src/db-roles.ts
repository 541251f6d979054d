import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type RawBuilder, type Transaction } from 'kysely';
import { schemaNamePattern } from './config.js';

/**
 * A service's login role: a plain lower-case identifier. `pg_` is PostgreSQL's
 * reserved prefix; the pattern also keeps the name free of anything that would
 * need quoting, so it reads the same in SQL, URLs and logs.
 */
export const roleNamePattern = /^(?!pg_)[a-z][a-z0-9_]{0,62}$/;

/** Schemas no service may own: PostgreSQL's own, and `public`, which every role of the database shares. */
const reservedSchemaPattern = /^(pg_.*|information_schema|public)$/;

/**
 * Printable ASCII only: SASLprep leaves such a password unchanged, so the SCRAM
 * verifier computed here is exactly the one PostgreSQL would compute, and a
 * stored verifier can be checked against the password without changing it.
 */
const passwordPattern = /^[\x20-\x7e]{16,256}$/;

/** PostgreSQL's SCRAM iteration count (fixed before 16, the default of `scram_iterations` since). */
const scramIterations = 4096;
/** A stored verifier with more iterations than this is not ours to recompute on every start. */
const maxScramIterations = 1_000_000;

/**
 * Serialises provisioning within one database, so two provisioners never race
 * on the same catalog rows there. Arbitrary constant ("hexa" in ASCII).
 */
const provisioningLockKey = 0x68657861;

/** Provisioners on different databases of one cluster are not serialised (advisory locks are per database); they retry. */
const maxAttempts = 5;

export interface ServiceRoleOptions {
  /** A superuser connection to the platform database. Provisioning only: never given to a service. */
  adminUrl: string;
  /** The service's login role, e.g. `hexa_membership`. */
  role: string;
  /** The role's password: 16–256 printable ASCII characters. Sent to PostgreSQL as a SCRAM verifier only. */
  password: string;
  /** The schema the role owns, e.g. `membership`. */
  schema: string;
}

export interface ServiceRoleReport {
  role: string;
  schema: string;
  database: string;
  /** What this call changed, in words (never a secret); empty when everything was already in place. */
  changes: string[];
}

/**
 * Makes `role` a login role that owns `schema` in the admin URL's database and
 * can do nothing else there: it can connect, it owns its schema and everything
 * in it, and it has no other privilege. Run as a superuser, before the
 * service's migrations.
 *
 * Idempotent and safe to run concurrently: it changes only what differs (a
 * second run changes nothing, not even a catalog row's version), runs in one
 * transaction under an advisory lock, and retries when a provisioner on
 * another database of the same cluster created the role at the same moment.
 *
 * What it converges:
 * - the role: created `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
 *   NOBYPASSRLS`; an existing one loses any of those extra attributes, an
 *   expiry and its memberships of other roles (they would lend it their
 *   privileges); its password is set only when the stored verifier does not
 *   match. An existing superuser is refused, never demoted.
 * - the database: `CONNECT` and `TEMPORARY` are revoked from PUBLIC (only the
 *   roles granted `CONNECT` may log in to the platform database; workspace
 *   database users on the same server cannot); the role gets `CONNECT` only.
 * - `public`: `CREATE` is revoked from PUBLIC (PostgreSQL 15's default), so no
 *   service can put objects in a namespace the others see.
 * - the schema: created `AUTHORIZATION role`, or taken over (schema, tables,
 *   views, sequences and types in it) when an earlier installation made it
 *   with another owner; PUBLIC's privileges on it are revoked. Routines owned
 *   by another role are refused: transfer them by hand.
 *
 * @example
 * await ensureServiceRole({ adminUrl: 'postgres://postgres@127.0.0.1:5432/hexa', role: 'hexa_membership', password, schema: 'membership' });
 */
export async function ensureServiceRole(options: ServiceRoleOptions): Promise<ServiceRoleReport> {
  assertRoleName(options.role);
  assertSchemaName(options.schema);
  if (!passwordPattern.test(options.password)) throw new Error(`The password of role ${options.role} must be 16 to 256 printable ASCII characters`);

  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: options.adminUrl, max: 1 }) }) });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().execute((trx) => provision(trx, options));
      } catch (error) {
        if (attempt >= maxAttempts || !isProvisioningRace(error)) throw error;
      }
    }
  } finally {
    await db.destroy();
  }
}

/** Throws unless `role` is a plain identifier that may name a service role. */
export function assertRoleName(role: string): void {
  if (!roleNamePattern.test(role)) throw new Error(`Invalid role name ${JSON.stringify(role)}: expected ${roleNamePattern}`);
}

/** Throws unless `schema` is a plain identifier that a service may own. */
export function assertSchemaName(schema: string): void {
  if (!schemaNamePattern.test(schema) || reservedSchemaPattern.test(schema)) {
    throw new Error(`Invalid schema name ${JSON.stringify(schema)}: expected ${schemaNamePattern}, not public, information_schema or pg_*`);
  }
}

/**
 * The URL a service connects with: the server and database of `baseUrl`,
 * logged in as the service's role.
 *
 * @example
 * serviceDatabaseUrl('postgres://postgres@127.0.0.1:5432/hexa', 'hexa_membership', password);
 * // 'postgres://hexa_membership:…@127.0.0.1:5432/hexa'
 */
export function serviceDatabaseUrl(baseUrl: string, role: string, password: string): string {
  assertRoleName(role);
  const url = parseDatabaseUrl(baseUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/**
 * The role, password and database a connection URL names: provisioning takes
 * a service's role from the very URL the service will use, so the two cannot
 * disagree.
 *
 * @example
 * databaseLogin('postgres://hexa_membership:secret@db:5432/hexa'); // { role: 'hexa_membership', password: 'secret', database: 'hexa' }
 */
export function databaseLogin(databaseUrl: string): { role: string; password: string; database: string } {
  const url = parseDatabaseUrl(databaseUrl);
  return { role: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: decodeURIComponent(url.pathname.replace(/^\//, '')) };
}

function parseDatabaseUrl(databaseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('Invalid database URL');
  }
  // Without a host (socket-only URLs) a URL cannot carry a login; say so instead of dropping it silently.
  if (!['postgres:', 'postgresql:'].includes(url.protocol) || url.hostname === '') throw new Error('A database URL must be postgres://user:password@host:port/database');
  return url;
}

type Executor = Transaction<unknown>;

async function rows<T>(query: RawBuilder<T>, trx: Executor): Promise<T[]> {
  return (await query.execute(trx)).rows;
}

async function provision(trx: Executor, options: ServiceRoleOptions): Promise<ServiceRoleReport> {
  const { role, schema, password } = options;
  const changes: string[] = [];
  const run = async (query: RawBuilder<unknown>, change: string) => {
    await query.execute(trx);
    changes.push(change);
  };

  await sql`select pg_advisory_xact_lock(${provisioningLockKey})`.execute(trx);

  const [admin] = await rows(sql<{ superuser: boolean; database: string }>`select rolsuper as superuser, current_database() as database from pg_roles where rolname = current_user`, trx);
  // pg_authid (the stored verifier) and the ownership changes below need one.
  if (!admin?.superuser) throw new Error('Provisioning a service role needs a superuser connection');
  const database = admin.database;

  // --- the role -------------------------------------------------------------
  const [existing] = await rows(
    sql<{ rolsuper: boolean; extra: boolean; expires: boolean; rolpassword: string | null }>`
      select rolsuper,
             (not rolcanlogin or rolcreatedb or rolcreaterole or rolreplication or rolbypassrls) as extra,
             coalesce(rolvaliduntil < 'infinity', false) as expires,
             rolpassword
      from pg_authid where rolname = ${role}`,
    trx,
  );
  if (!existing) {
    await run(sql`create role ${sql.id(role)} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password ${sql.lit(scramVerifier(password))}`, `created role ${role}`);
  } else {
    if (existing.rolsuper) throw new Error(`Role ${role} is a superuser; a service role must not be one, and provisioning does not demote superusers`);
    if (existing.extra || existing.expires) {
      await run(sql`alter role ${sql.id(role)} with login nocreatedb nocreaterole noreplication nobypassrls valid until 'infinity'`, `reduced role ${role} to login only`);
    }
    if (!scramVerifierMatches(existing.rolpassword, password)) {
      await run(sql`alter role ${sql.id(role)} with password ${sql.lit(scramVerifier(password))}`, `set the password of role ${role}`);
    }
    const memberships = await rows(
      sql<{ granted: string }>`select g.rolname as granted from pg_auth_members m join pg_roles g on g.oid = m.roleid join pg_roles r on r.oid = m.member where r.rolname = ${role} order by 1`,
      trx,
    );
    for (const { granted } of memberships) await run(sql`revoke ${sql.id(granted)} from ${sql.id(role)}`, `revoked role ${granted} from ${role}`);
  }

  // --- the database ---------------------------------------------------------
  // aclexplode of the effective ACL: a NULL datacl means the defaults, which give PUBLIC CONNECT and TEMPORARY.
  const databaseAcl = await rows(
    sql<{ grantee: 'public' | 'role' | 'owner'; privilege: string }>`
      select case when a.grantee = 0 then 'public' when a.grantee = d.datdba then 'owner' else 'role' end as grantee, a.privilege_type as privilege
      from pg_database d cross join lateral aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
      where d.datname = current_database() and (a.grantee = 0 or a.grantee = (select oid from pg_roles where rolname = ${role}))`,
    trx,
  );
  const granted = (grantee: string, privilege: string) => databaseAcl.some((entry) => entry.grantee === grantee && entry.privilege === privilege);
  if (databaseAcl.some((entry) => entry.grantee === 'owner')) throw new Error(`Role ${role} owns database ${database}; a service role must not`);
  if (granted('public', 'CONNECT') || granted('public', 'TEMPORARY')) {
    await run(sql`revoke connect, temporary on database ${sql.id(database)} from public`, `revoked CONNECT and TEMPORARY on database ${database} from PUBLIC`);
  }
  if (!granted('role', 'CONNECT')) await run(sql`grant connect on database ${sql.id(database)} to ${sql.id(role)}`, `granted CONNECT on database ${database} to ${role}`);
  if (granted('role', 'CREATE') || granted('role', 'TEMPORARY')) {
    await run(sql`revoke create, temporary on database ${sql.id(database)} from ${sql.id(role)}`, `revoked CREATE and TEMPORARY on database ${database} from ${role}`);
  }

  const [publicSchema] = await rows(
    sql<{ create: boolean }>`
      select exists (select 1 from aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a where a.grantee = 0 and a.privilege_type = 'CREATE') as create
      from pg_namespace n where n.nspname = 'public'`,
    trx,
  );
  if (publicSchema?.create) await run(sql`revoke create on schema public from public`, 'revoked CREATE on schema public from PUBLIC');

  // --- the schema and what is in it -----------------------------------------
  const [current] = await rows(
    sql<{ owner: string; public: boolean }>`
      select o.rolname as owner, exists (select 1 from aclexplode(n.nspacl) a where a.grantee = 0) as public
      from pg_namespace n join pg_roles o on o.oid = n.nspowner where n.nspname = ${schema}`,
    trx,
  );
  if (!current) {
    await run(sql`create schema ${sql.id(schema)} authorization ${sql.id(role)}`, `created schema ${schema} owned by ${role}`);
  } else {
    if (current.owner !== role) await run(sql`alter schema ${sql.id(schema)} owner to ${sql.id(role)}`, `transferred schema ${schema} from ${current.owner} to ${role}`);
    if (current.public) await run(sql`revoke all on schema ${sql.id(schema)} from public`, `revoked PUBLIC's privileges on schema ${schema}`);
    await adoptObjects(trx, role, schema, run);
  }

  return { role, schema, database, changes };
}

/**
 * Gives `role` the objects of `schema` that another role owns (an
 * installation whose migrations ran as a superuser). Tables first: their
 * indexes, owned sequences and row types follow them.
 */
async function adoptObjects(trx: Executor, role: string, schema: string, run: (query: RawBuilder<unknown>, change: string) => Promise<void>): Promise<void> {
  const relations = await rows(
    sql<{ name: string; kind: string }>`
      select c.relname as name, c.relkind as kind
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relowner <> (select oid from pg_roles where rolname = ${role})
        and c.relkind in ('r', 'p', 'f', 'v', 'm', 'S', 'c')
        and not exists (select 1 from pg_depend d
                        where d.classid = 'pg_class'::regclass and d.objid = c.oid
                          and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i'))
      order by c.relkind = 'S', c.relname`,
    trx,
  );
  const alterOf: Record<string, RawBuilder<unknown>> = { r: sql`table`, p: sql`table`, f: sql`foreign table`, v: sql`view`, m: sql`materialized view`, S: sql`sequence`, c: sql`type` };
  for (const { name, kind } of relations) {
    const what = alterOf[kind];
    if (what) await run(sql`alter ${what} ${sql.id(schema, name)} owner to ${sql.id(role)}`, `transferred ${schema}.${name} to ${role}`);
  }

  // Enums, domains and ranges; array types follow their element type.
  const types = await rows(
    sql<{ name: string }>`
      select t.typname as name from pg_type t join pg_namespace n on n.oid = t.typnamespace
      where n.nspname = ${schema} and t.typowner <> (select oid from pg_roles where rolname = ${role}) and t.typtype in ('e', 'd', 'r')
      order by 1`,
    trx,
  );
  for (const { name } of types) await run(sql`alter type ${sql.id(schema, name)} owner to ${sql.id(role)}`, `transferred type ${schema}.${name} to ${role}`);

  const routines = await rows(
    sql<{ name: string }>`
      select p.oid::regprocedure::text as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = ${schema} and p.proowner <> (select oid from pg_roles where rolname = ${role})
      order by 1`,
    trx,
  );
  if (routines.length > 0) {
    throw new Error(`Schema ${schema} holds routines another role owns (${routines.map((routine) => routine.name).join(', ')}); transfer them to ${role} by hand`);
  }
}

/** Two provisioners met: one created the role (or schema) first, or their catalog updates crossed. Retrying sees the winner's work. */
function isProvisioningRace(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return (
    code === '23505' || // unique_violation: the catalog's unique index caught a concurrent CREATE
    code === '42710' || // duplicate_object
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    (code === 'XX000' && /^tuple concurrently (updated|deleted)$/.test(message ?? ''))
  );
}

/**
 * A SCRAM-SHA-256 verifier in PostgreSQL's `rolpassword` format (RFC 5802 /
 * 7677). Sent as a role's password, it keeps the clear password out of the
 * server and its statement log; logins with the password work as usual.
 *
 * @example
 * await sql`alter role ${sql.id(role)} password ${sql.lit(scramVerifier(password))}`.execute(db);
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = scramIterations): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * True when `stored` (a `pg_authid.rolpassword`) is a SCRAM verifier of
 * `password`; an MD5 hash or no password never matches.
 *
 * @example
 * if (!scramVerifierMatches(row.rolpassword, password)) await setPassword();
 */
export function scramVerifierMatches(stored: string | null, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.exec(stored ?? '');
  if (!stored || !match) return false;
  const iterations = Number(match[1]);
  if (iterations < 1 || iterations > maxScramIterations) return false;
  const expected = Buffer.from(scramVerifier(password, Buffer.from(match[2]!, 'base64'), iterations));
  const actual = Buffer.from(stored);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
