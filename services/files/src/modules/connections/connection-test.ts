import pg from 'pg';

/** What testing a connection found. */
export interface TestOutcome {
  ok: boolean;
  message: string;
  durationMs: number;
}

/**
 * Signs in to a PostgreSQL server with a connection's fields and runs
 * `select 1`. The server's refusal is reported as it was given, with the
 * password (should a server ever echo it) masked.
 */
export async function testPostgres(fields: Record<string, string>, timeoutMs: number): Promise<TestOutcome> {
  const started = Date.now();
  const password = fields.password ?? '';
  const client = new pg.Client({
    host: fields.host,
    port: Number(fields.port),
    database: fields.dbName,
    user: fields.username,
    password,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A server that drops the connection later must not take the process down.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ version: string }>('select version() as version');
    return { ok: true, message: `Connected: ${result.rows[0]?.version ?? 'PostgreSQL'}`, durationMs: Date.now() - started };
  } catch (error) {
    const text = String((error as Error).message || error);
    const masked = password.length > 0 ? text.split(password).join('***') : text;
    return { ok: false, message: masked.slice(0, 1000), durationMs: Date.now() - started };
  } finally {
    await client.end().catch(() => undefined);
  }
}
