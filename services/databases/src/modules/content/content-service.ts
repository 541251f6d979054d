import pg from 'pg';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { AppError, httpError, isDatabaseUnavailable } from '@hexa/kit';
import type { DatabasesDatabase } from '../../database.js';
import { loginUrl } from '../cluster/cluster-fns.js';
import { getWorkspaceDatabaseBySlug, type WorkspaceDatabaseRow } from '../provisioning/provisioning-repository.js';
import type { Secrets } from '../secrets/secrets.js';
import { cellOf, cellMaxLength, columnMaxCount, relationKinds, rowCountOf } from './content-fns.js';

/** A content page that cannot reach the workspace database within this long answers 503. */
const connectTimeoutMs = 3000;
/** What a client is told to wait when the workspace database is away. */
const retryAfterSeconds = 2;
/** Below this much time left in a page's budget, a count is not started: the estimate is shown. */
const minimumCountMs = 50;
/** SQLSTATE of a statement cancelled by its statement_timeout. */
const queryCanceled = '57014';

type Reader = Transaction<unknown>;

/** The relations the content pages show: those of `public` the read-only login may read. */
const shownRelations = sql`
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f') and has_table_privilege(c.oid, 'SELECT')`;

interface ColumnRow { table: string; name: string; type: string; nullable: boolean; count: number }

/** The first `columnMaxCount` columns of each table, each row with its table's number of columns. */
async function columnsOf(reader: Reader, tables: string[]): Promise<ColumnRow[]> {
  if (tables.length === 0) return [];
  const { rows } = await sql<ColumnRow>`
    select "table", name, type, nullable, count from (
      select c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
             row_number() over (partition by c.oid order by a.attnum) as position, (count(*) over (partition by c.oid))::int as count
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname = any(${tables}) and a.attnum > 0 and not a.attisdropped) as numbered
    where position <= ${sql.lit(columnMaxCount)}
    order by "table", position`.execute(reader);
  return rows;
}

/** The columns as the API shows them, and `columnCount` when they are not all there. */
function shownColumns(rows: ColumnRow[]): { columns: Schemas['DatabaseColumn'][]; columnCount?: number } {
  const count = rows[0]?.count ?? 0;
  return { columns: rows.map(({ name, type, nullable }) => ({ name, type, nullable })), ...(count > rows.length ? { columnCount: count } : {}) };
}

/** Whether a column exists, whether or not the page shows it (the catalogue decides, not the request). */
async function hasColumn(reader: Reader, table: string, column: string): Promise<boolean> {
  const { rows } = await sql<{ found: number }>`
    select 1 as found from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relname = ${table} and a.attname = ${column} and a.attnum > 0 and not a.attisdropped`.execute(reader);
  return rows.length > 0;
}

/** What went wrong reading a workspace database, as the client should see it. */
function contentError(error: unknown, statementTimeoutMs: number): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: string }).code;
  if (code === queryCanceled) {
    return httpError('service_unavailable', `The workspace database took longer than ${statementTimeoutMs} ms to answer.`, { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
  if (isDatabaseUnavailable(error) || code === '28P01' || code === '28000' || code === '53300' || code === '57P03') {
    return httpError('service_unavailable', "The workspace database cannot be reached; try again in a few seconds.", { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
  // No ordering operator for the column's type (json, point…).
  if (code === '42883' || code === '42804') {
    return httpError('invalid_input', 'Rows cannot be ordered by a column of this type.', { errors: [{ field: 'querystring/orderBy', message: 'the column has no ordering' }] });
  }
  return error;
}

/**
 * The content pages: tables, columns, counts and rows of a workspace's
 * database, read as its read-only login inside a read-only transaction with a
 * statement timeout. Table and column names are looked up in the catalogue
 * and quoted; nothing from the request is put into SQL as given.
 */
export function createContentService(deps: {
  db: Kysely<DatabasesDatabase>;
  secrets: Secrets;
  adminUrl: string;
  statementTimeoutMs: number;
  exactCountLimit: number;
}) {
  const { db, secrets, statementTimeoutMs, exactCountLimit } = deps;

  async function readyRow(slug: string): Promise<WorkspaceDatabaseRow> {
    const row = await getWorkspaceDatabaseBySlug(db, slug);
    if (row.status !== 'ready') throw httpError('database_not_ready', `The workspace's database is ${row.status}; its content is shown once it is ready.`);
    return row;
  }

  async function asReader<T>(row: WorkspaceDatabaseRow, work: (reader: Reader) => Promise<T>): Promise<T> {
    const password = secrets.open(row.reader_password, { workspaceId: row.workspace_id, login: 'reader' });
    const pool = new pg.Pool({
      connectionString: loginUrl(deps.adminUrl, row.reader_role, password, row.database_name),
      max: 1,
      connectionTimeoutMillis: connectTimeoutMs,
      application_name: 'hexa:databases-content',
    });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const reader = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    try {
      return await reader
        .transaction()
        .setAccessMode('read only')
        .execute(async (trx) => {
          await sql`set local statement_timeout = ${sql.lit(statementTimeoutMs)}`.execute(trx);
          return work(trx);
        });
    } catch (error) {
      throw contentError(error, statementTimeoutMs);
    } finally {
      await reader.destroy();
    }
  }

  /**
   * A relation's row count, exact when counting it fits in what is left of the page's budget (`deadline`);
   * otherwise, or when the count runs out of time, PostgreSQL's estimate. The count runs in a savepoint, so
   * that one cancelled by its timeout leaves the transaction usable for the next tables.
   */
  async function countRows(reader: Reader, relation: { name: string; kind: string; estimate: number }, deadline: number): Promise<{ rowCount: number | null; rowCountExact: boolean }> {
    const { name, kind, estimate } = relation;
    // Views may be arbitrarily expensive, and a foreign table's count is another server's work.
    if (kind === 'v' || kind === 'f') return { rowCount: null, rowCountExact: false };
    const estimated = rowCountOf({ counted: null, estimate, limit: exactCountLimit });
    const leftMs = deadline - Date.now();
    if (estimate > exactCountLimit || leftMs < minimumCountMs) return estimated;
    await sql`savepoint counting`.execute(reader);
    try {
      await sql`set local statement_timeout = ${sql.lit(Math.min(leftMs, statementTimeoutMs))}`.execute(reader);
      const { rows } = await sql<{ counted: string }>`
        select count(*) as counted from (select 1 from ${sql.id('public', name)} limit ${sql.lit(exactCountLimit + 1)}) as limited`.execute(reader);
      await sql`release savepoint counting`.execute(reader);
      return rowCountOf({ counted: Number(rows[0]?.counted ?? 0), estimate, limit: exactCountLimit });
    } catch (error) {
      if ((error as { code?: string }).code !== queryCanceled) throw error;
      // Also undoes the SET LOCAL: the next statements have the whole timeout again.
      await sql`rollback to savepoint counting`.execute(reader);
      return estimated;
    }
  }

  return {
    /** Tables and views in a ready database's `public`; null when it cannot be read right now. */
    async countTables(row: WorkspaceDatabaseRow): Promise<number | null> {
      try {
        return await asReader(row, async (reader) => {
          const { rows } = await sql<{ total: number }>`select count(*)::int as total ${shownRelations}`.execute(reader);
          return rows[0]?.total ?? 0;
        });
      } catch {
        return null;
      }
    },

    async listTables(slug: string, paging: { page: number; perPage: number }): Promise<{ items: Schemas['DatabaseTable'][]; total: number }> {
      const row = await readyRow(slug);
      return asReader(row, async (reader) => {
        const [{ total = 0 } = {}] = (await sql<{ total: number }>`select count(*)::int as total ${shownRelations}`.execute(reader)).rows;
        const { rows: relations } = await sql<{ name: string; kind: string; estimate: number; size: string | null }>`
          select c.relname as name, c.relkind as kind, c.reltuples::float8 as estimate,
                 case c.relkind when 'p' then (select sum(pg_total_relation_size(relid)) from pg_partition_tree(c.oid))
                                when 'r' then pg_total_relation_size(c.oid) when 'm' then pg_total_relation_size(c.oid) end as size
          ${shownRelations}
          order by c.relname
          limit ${sql.lit(paging.perPage)} offset ${sql.lit((paging.page - 1) * paging.perPage)}`.execute(reader);
        const columns = await columnsOf(reader, relations.map((relation) => relation.name));
        // One budget for all the page's counts: one count per table, each with its own timeout, would have none.
        const deadline = Date.now() + statementTimeoutMs;
        const items: Schemas['DatabaseTable'][] = [];
        for (const relation of relations) {
          const { columns: shown, columnCount } = shownColumns(columns.filter((column) => column.table === relation.name));
          items.push({
            name: relation.name,
            kind: relationKinds[relation.kind] ?? 'table',
            ...(await countRows(reader, relation, deadline)),
            sizeBytes: relation.size === null ? null : Number(relation.size),
            columns: shown,
            ...(columnCount === undefined ? {} : { columnCount }),
          });
        }
        return { items, total };
      });
    },

    async listRows(
      slug: string,
      table: string,
      options: { page: number; perPage: number; orderBy?: string; direction: 'asc' | 'desc' },
    ): Promise<Schemas['DatabaseRows']> {
      const row = await readyRow(slug);
      return asReader(row, async (reader) => {
        const { rows: found } = await sql<{ name: string }>`select c.relname as name ${shownRelations} and c.relname = ${table}`.execute(reader);
        if (found.length === 0) throw httpError('table_not_found', `This database has no table or view named ${JSON.stringify(table)} that you may read.`);
        const { columns, columnCount } = shownColumns(await columnsOf(reader, [table]));
        if (options.orderBy !== undefined && !(await hasColumn(reader, table, options.orderBy))) {
          throw httpError('invalid_input', `Table ${JSON.stringify(table)} has no column ${JSON.stringify(options.orderBy)}.`, {
            errors: [{ field: 'querystring/orderBy', message: `unknown column "${options.orderBy}"` }],
          });
        }
        const selected = columns.length > 0
          ? sql.join(columns.map((column, index) => sql`left(${sql.id(column.name)}::text, ${sql.lit(cellMaxLength + 1)}) as ${sql.id(`c${index}`)}`))
          : sql`null as c`;
        const order = options.orderBy === undefined ? sql`` : sql`order by ${sql.id(options.orderBy)} ${options.direction === 'desc' ? sql`desc` : sql`asc`}`;
        // One row more than the page: whether another page follows, without counting the table.
        const { rows } = await sql<Record<string, string | null>>`
          select ${selected} from ${sql.id('public', table)} ${order}
          limit ${sql.lit(options.perPage + 1)} offset ${sql.lit((options.page - 1) * options.perPage)}`.execute(reader);
        return {
          table,
          columns,
          ...(columnCount === undefined ? {} : { columnCount }),
          rows: rows.slice(0, options.perPage).map((cells) => columns.map((_column, index) => cellOf(cells[`c${index}`] ?? null))),
          page: options.page,
          perPage: options.perPage,
          hasMore: rows.length > options.perPage,
        };
      });
    },
  };
}

export type ContentService = ReturnType<typeof createContentService>;
