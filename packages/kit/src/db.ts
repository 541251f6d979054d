import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql, type Migration } from 'kysely';
import { commonConfig, databaseSchemaConfig, loadConfig, schemaNamePattern } from './config.js';
import { configOrExit } from './lifecycle.js';

/** Connections per process: services are small and scale by replicas. */
const poolSize = 10;
/** How long a query waits for a new connection before the request fails with 503. */
const connectTimeoutMs = 3000;

/**
 * A Kysely instance bound to one service's schema: every unqualified table
 * name resolves there (`search_path`), so a service cannot read another's
 * tables by accident; the URL's login role (see `ensureServiceRole`) makes
 * sure it cannot on purpose either. Connections are named `hexa:<schema>` in
 * `pg_stat_activity`, so an operator sees which service holds which session.
 *
 * @example
 * const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: 'membership' });
 */
export function createDatabase<DB>(options: { url: string; schema: string; max?: number }): Kysely<DB> {
  if (!schemaNamePattern.test(options.schema)) throw new Error(`Invalid schema name ${options.schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? poolSize,
    options: `-c search_path=${options.schema}`,
    // While PostgreSQL is away, a request fails in seconds (503) instead of waiting for a connection.
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: `hexa:${options.schema}`,
  });
  // A client that loses its server — idle in the pool, or checked out between two queries of a
  // transaction — emits 'error'; unheard, that would end the process. The query in flight fails
  // on its own (503), the broken client is discarded, and the next query connects again.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Applies the service's migrations to its schema, in name order, recording
 * them in that schema. The schema is normally provisioned beforehand, owned
 * by the service's role (`ensureServiceRole`); a connection allowed to create
 * schemas (a superuser) may find it missing and create it.
 *
 * @example
 * await migrateToLatest(db, 'membership', migrations);
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, schema: string, migrations: Record<string, Migration>): Promise<string[]> {
  if (!schemaNamePattern.test(schema)) throw new Error(`Invalid schema name ${schema}`);
  // Not `create schema if not exists`: PostgreSQL checks the CREATE privilege on the
  // database before it looks for the schema, and a service role has none.
  const { rows } = await sql<{ found: boolean }>`select exists (select 1 from pg_namespace where nspname = ${schema}) as found`.execute(db);
  if (!rows[0]?.found) {
    try {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    } catch (error) {
      if ((error as { code?: string }).code !== pgErrorCodes.insufficientPrivilege) throw error;
      throw new Error(`Schema ${schema} does not exist and this login may not create it: provision it first (ensureServiceRole, deploy/local/provision.ts)`, { cause: error });
    }
  }
  const migrator = new Migrator({
    db: db as unknown as Kysely<unknown>,
    migrationTableSchema: schema,
    provider: { getMigrations: async () => migrations },
  });
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error;
      return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
    } catch (error) {
      if (attempt >= maxMigrationAttempts || !isAnotherSchemaGone(error, schema)) throw error;
    }
  }
}

/** A migration that met a schema dropped meanwhile is tried again this many times in all. */
const maxMigrationAttempts = 3;

/**
 * Kysely's migrator looks for its own tables with a catalogue query that calls
 * has_schema_privilege() on every schema of the database: a schema dropped
 * meanwhile by someone else (a test file ending, a clean-up) fails it with
 * 3F000 naming that other schema. Nothing was applied then (it fails before
 * taking the migration lock); trying again sees the catalogue without it.
 */
function isAnotherSchemaGone(error: unknown, schema: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '3F000' && typeof message === 'string' && !message.includes(`"${schema}"`);
}

/** Throws when PostgreSQL does not answer. */
export async function pingDatabase<DB>(db: Kysely<DB>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** PostgreSQL error codes the services react to. */
export const pgErrorCodes = { uniqueViolation: '23505', insufficientPrivilege: '42501' } as const;

/**
 * True when the database could not be reached or went away mid-query (a
 * restart, a failover): a dependency outage, not a fault of the request.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    // 08xxx connection exceptions; 57P01-57P03 admin/crash shutdown and "cannot connect now".
    if (/^08/.test(code) || ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  }
  return typeof message === 'string' && /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(message);
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError?.code === pgErrorCodes.uniqueViolation && (constraint === undefined || pgError.constraint === constraint);
}

/**
 * The body of a service's `migrate` script: reads only the database settings
 * (no secrets needed), applies the schema's pending migrations, and reports them.
 *
 * @example
 * await runMigrations('membership', migrations);
 */
export async function runMigrations(service: string, migrations: Record<string, Migration>, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const config = configOrExit(`${service} migrations`, () => loadConfig({ DATABASE_URL: commonConfig.DATABASE_URL, DATABASE_SCHEMA: databaseSchemaConfig(service) }, env));
  const db = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
  try {
    const applied = await migrateToLatest(db, config.DATABASE_SCHEMA, migrations);
    console.log(`${service}: ${applied.length} migration(s) applied${applied.length ? `: ${applied.join(', ')}` : ''}`);
    return applied;
  } finally {
    await db.destroy();
  }
}
