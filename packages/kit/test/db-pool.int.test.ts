import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import { testDatabaseUrl } from '@hexa/testing';
import { createDatabase, isDatabaseUnavailable, isPoolBusy } from '../src/db.js';
import { toAppError } from '../src/http.js';

describe('a service database pool', () => {
  it('lets a burst larger than the pool wait for a connection instead of failing it (past the connect time-out)', async () => {
    const db = createDatabase({ url: testDatabaseUrl, schema: 'public', max: 1 });
    try {
      const started = Date.now();
      const [slow, queued] = await Promise.allSettled([
        sql`select pg_sleep(3.5)`.execute(db),
        sql<{ answer: number }>`select 1 as answer`.execute(db),
      ]);
      expect(slow.status).toBe('fulfilled');
      expect(queued).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [{ answer: 1 }] }) });
      expect(Date.now() - started).toBeGreaterThanOrEqual(3500);
    } finally {
      await db.destroy();
    }
  }, 20_000);

  it('fails a query within seconds, as the database being away, when PostgreSQL does not answer the connection', async () => {
    // Accepts the connection and never says a word, as a server that hangs does.
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const db = createDatabase({ url: `postgres://nobody@127.0.0.1:${(silent.address() as AddressInfo).port}/none`, schema: 'public' });
    try {
      const started = Date.now();
      const error = await sql`select 1`.execute(db).then(() => undefined, (failure: unknown) => failure);
      expect(Date.now() - started).toBeLessThan(6000);
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(isPoolBusy(error)).toBe(false);
    } finally {
      await db.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 20_000);

  it('answers a query that waited too long for the pool as a busy service, not as the database being away', () => {
    const waited = new Error('timeout exceeded when trying to connect');
    expect(isPoolBusy(waited)).toBe(true);
    expect(isDatabaseUnavailable(waited)).toBe(false);
    expect(toAppError(waited)).toMatchObject({ status: 503, code: 'service_unavailable', message: expect.stringContaining('too busy') });
  });
});
