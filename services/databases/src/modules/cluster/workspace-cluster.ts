import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { httpError, scramVerifier } from '@hexa/kit';
import { endpointOf, loginUrl, WorkspaceLoginRefused, type ClusterEndpoint, type WorkspaceDatabaseNames } from './cluster-fns.js';

/** What every workspace database gets (settings of the service). */
export interface WorkspaceDatabaseSettings {
  connectionLimit: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** An admin statement that hangs fails after this long; the step is retried. */
const adminStatementTimeoutMs = 60_000;
/** A connection to the cluster that cannot be made within this long counts as the cluster being down. */
const connectTimeoutMs = 5000;
/** How long ending a login's sessions waits for each to be gone (pg_terminate_backend's timeout). */
const terminateWaitMs = 5000;

const duplicateObject = '42710';
const duplicateDatabase = '42P04';

function poolFor(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: adminStatementTimeoutMs,
    application_name: 'hexa:databases-admin',
  });
  // A lost connection fails the statement in flight (and the step is retried); unheard, it would end the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

/**
 * The cluster that hosts the workspace databases, driven through the
 * platform's admin login (CREATEDB CREATEROLE, not a superuser). Every
 * operation converges: it checks what exists and creates or corrects only
 * that, so it can run again after dying at any point. Names come from
 * `databaseNamesFor` and are quoted anyway; passwords are sent as SCRAM
 * verifiers, so the clear password never reaches the server or its logs.
 */
export function createWorkspaceCluster(options: { adminUrl: string; settings: WorkspaceDatabaseSettings; maxConnections?: number }) {
  const { adminUrl, settings } = options;
  const admin = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: poolFor(adminUrl, options.maxConnections ?? 4) }) });
  const adminRole = decodeURIComponent(new URL(adminUrl).username);
  const endpoint: ClusterEndpoint = endpointOf(adminUrl);

  /** Runs `work` as the admin login connected to one workspace database (GRANTs on a schema only work from inside it). */
  async function inDatabase<T>(database: string, work: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    const url = new URL(adminUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: poolFor(url.toString(), 1) }) });
    try {
      return await work(db);
    } finally {
      await db.destroy();
    }
  }

  async function ensureRole(role: string, password: string): Promise<void> {
    const verifier = sql.lit(scramVerifier(password));
    // Whether the admin holds the login's privileges, not whether some membership row exists: from
    // PostgreSQL 16 on, CREATE ROLE by a CREATEROLE login adds one itself, with ADMIN OPTION only (no
    // INHERIT, no SET), so a retry after dying before the GRANT would otherwise skip it and fail for good.
    const [existing] = (
      await sql<{ superuser: boolean; privileged: boolean; member: boolean }>`
        select r.rolsuper as superuser, (r.rolreplication or r.rolbypassrls) as privileged,
               pg_has_role(current_user, r.oid, 'USAGE')
               and (current_setting('server_version_num')::int < 160000 or pg_has_role(current_user, r.oid, ${sql.lit('SET')})) as member
        from pg_roles r where r.rolname = ${role}`.execute(admin)
    ).rows;
    if (existing?.superuser || existing?.privileged) {
      // Only a superuser made it so; it is not a login this platform made, and it must not be handed to users.
      throw httpError('conflict', `Role ${role} exists on the workspace cluster with privileges a workspace login must not have`);
    }
    if (!existing) {
      try {
        await sql`create role ${sql.id(role)} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password ${verifier}`.execute(admin);
      } catch (error) {
        // Made meanwhile by another attempt: converge it below like any existing role.
        if (codeOf(error) !== duplicateObject) throw error;
      }
    }
    if (existing) await sql`alter role ${sql.id(role)} with login nocreatedb nocreaterole password ${verifier}`.execute(admin);
    // The admin needs the login's privileges to give it the schema, set its default privileges and end its sessions.
    if (!existing?.member) await sql`grant ${sql.id(role)} to ${sql.id(adminRole)}`.execute(admin);
  }

  /** Ends every session of these logins and waits for each to be gone. */
  async function endSessions(roles: string[]): Promise<number> {
    const { rows } = await sql<{ ended: boolean }>`
      select pg_terminate_backend(pid, ${sql.lit(terminateWaitMs)}) as ended
      from pg_stat_activity where usename = any(${roles}) and pid <> pg_backend_pid()`.execute(admin);
    return rows.length;
  }

  return {
    /** Where the workspace databases are reached. */
    endpoint,
    adminUrl,

    /** Step 1: the read-write and the read-only logins, with their passwords. */
    async ensureRoles(names: WorkspaceDatabaseNames, passwords: { owner: string; reader: string }): Promise<void> {
      await ensureRole(names.owner, passwords.owner);
      await ensureRole(names.reader, passwords.reader);
    },

    /**
     * Step 2: the database (owned by the admin login, so that users cannot
     * change its settings), its connection limit and timeouts, and CONNECT for
     * the two logins only. CREATE DATABASE cannot run in a transaction; it is
     * made from template0, which nobody can be connected to.
     */
    async ensureDatabase(names: WorkspaceDatabaseNames): Promise<void> {
      const { rows } = await sql<{ found: number }>`select 1 as found from pg_database where datname = ${names.database}`.execute(admin);
      if (rows.length === 0) {
        try {
          await sql`create database ${sql.id(names.database)} template template0 encoding 'UTF8'`.execute(admin);
        } catch (error) {
          if (codeOf(error) !== duplicateDatabase) throw error;
        }
      }
      const database = sql.id(names.database);
      await sql`alter database ${database} connection limit ${sql.lit(settings.connectionLimit)}`.execute(admin);
      await sql`alter database ${database} set statement_timeout = ${sql.lit(settings.statementTimeoutMs)}`.execute(admin);
      await sql`alter database ${database} set idle_in_transaction_session_timeout = ${sql.lit(settings.idleInTransactionTimeoutMs)}`.execute(admin);
      await sql`revoke all on database ${database} from public`.execute(admin);
      await sql`grant connect, temporary on database ${database} to ${sql.id(names.owner)}`.execute(admin);
      await sql`grant connect on database ${database} to ${sql.id(names.reader)}`.execute(admin);
      // Every session of the read-only login starts read-only, whatever a bug in a query might attempt.
      await sql`alter role ${sql.id(names.reader)} in database ${database} set default_transaction_read_only = on`.execute(admin);
    },

    /**
     * Step 3: the read-write login owns `public`; the read-only login may read
     * every table in it, now and later (default privileges of the owner).
     */
    async ensureGrants(names: WorkspaceDatabaseNames): Promise<void> {
      await inDatabase(names.database, async (db) => {
        await sql`alter schema public owner to ${sql.id(names.owner)}`.execute(db);
        await sql`revoke all on schema public from public`.execute(db);
        await sql`grant usage on schema public to ${sql.id(names.reader)}`.execute(db);
        await sql`grant select on all tables in schema public to ${sql.id(names.reader)}`.execute(db);
        await sql`alter default privileges for role ${sql.id(names.owner)} in schema public grant select on tables to ${sql.id(names.reader)}`.execute(db);
      });
    },

    /** Enables the logins with these passwords, or disables them (archive), ending their sessions. */
    async setLogins(names: WorkspaceDatabaseNames, enabled: { owner: string; reader: string } | false): Promise<void> {
      if (enabled) {
        await sql`alter role ${sql.id(names.owner)} with login password ${sql.lit(scramVerifier(enabled.owner))}`.execute(admin);
        await sql`alter role ${sql.id(names.reader)} with login password ${sql.lit(scramVerifier(enabled.reader))}`.execute(admin);
        return;
      }
      await sql`alter role ${sql.id(names.owner)} with nologin`.execute(admin);
      await sql`alter role ${sql.id(names.reader)} with nologin`.execute(admin);
      await endSessions([names.owner, names.reader]);
    },

    async setPassword(role: string, password: string): Promise<void> {
      await sql`alter role ${sql.id(role)} with password ${sql.lit(scramVerifier(password))}`.execute(admin);
    },

    endSessions,

    /** Signs in as a login over the network, as users do; throws `WorkspaceLoginRefused` when its password or login is refused. */
    async checkLogin(database: string, user: string, password: string): Promise<void> {
      const client = new pg.Client({ connectionString: loginUrl(adminUrl, user, password, database), connectionTimeoutMillis: connectTimeoutMs, application_name: 'hexa:databases-check' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('select 1');
      } catch (error) {
        const code = codeOf(error);
        if (code === '28P01' || code === '28000') throw new WorkspaceLoginRefused(user, code);
        throw error;
      } finally {
        await client.end().catch(() => undefined);
      }
    },

    async close(): Promise<void> {
      await admin.destroy();
    },
  };
}

export type WorkspaceCluster = ReturnType<typeof createWorkspaceCluster>;
