import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql, type Migration } from 'kysely';
import { commonConfig, databaseSchemaConfig, loadConfig, schemaNamePattern } from './config.js';
import { configOrExit } from './lifecycle.js';

/** Connections per process: services are small and scale by replicas. */
const poolSize = 10;
/** How long connecting to PostgreSQL may take: while it is away, a request fails in seconds (503). */
const connectTimeoutMs = 3000;
/**
 * How long a query waits for one of the pool's connections while all are in
 * use. A burst queues behind the pool and is answered late rather than
 * refused: only a wait this long (a service overloaded for good) fails, with
 * a 503 that says the service is busy, not that the database is away.
 */
const poolWaitMs = 10_000;
/** What a query gets after waiting `poolWaitMs` for a connection (pg-pool's words). */
const poolWaitExceeded = 'timeout exceeded when trying to connect';

/** pg's client with its own connect time-out: pg-pool's `connectionTimeoutMillis` bounds the wait in its queue. */
class ConnectBoundedClient extends pg.Client {
  constructor(config: pg.ClientConfig) {
    super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
  }
}

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
    Client: ConnectBoundedClient as unknown as new () => pg.ClientBase,
    connectionTimeoutMillis: poolWaitMs,
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
  // Kysely looks at every table of the database before it takes its own lock; a schema dropped at that
  // moment (by another migration run, or a test cleaning up) fails the look. Schema DDL takes this lock.
  const { error, results } = await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${schemaDdlLock})`.execute(connection);
    try {
      return await migrator.migrateToLatest();
    } finally {
      await sql`select pg_advisory_unlock(${schemaDdlLock})`.execute(connection);
    }
  });
  if (error) throw error;
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** The advisory lock that migrations and schema drops take, so that neither sees the other half done. */
export const schemaDdlLock = 7_210_417_001;

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
  if (message === poolWaitExceeded) return false;
  if (typeof code === 'string') {
    // 08xxx connection exceptions; 57P01-57P03 admin/crash shutdown and "cannot connect now".
    if (/^08/.test(code) || ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  }
  return typeof message === 'string' && /Connection terminated|connection timeout|^timeout expired$|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(message);
}

/** True when a query waited too long for one of its pool's connections: the service is busy, the database is there. */
export function isPoolBusy(error: unknown): boolean {
  return (error as { message?: unknown } | undefined)?.message === poolWaitExceeded;
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
