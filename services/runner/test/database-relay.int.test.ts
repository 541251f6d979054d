import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { createDatabaseRelay } from '../src/modules/engine/database-relay.js';

// A server that answers only once the client has sent everything (ended its side), as a server reading a
// request to its end does: the relay must carry the answer back over the half-open connection.
let upstream: Server;
let upstreamPort: number;
beforeAll(async () => {
  upstream = createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(`got ${Buffer.concat(chunks).toString()}`));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

function ask(port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => socket.end(message));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
  });
}

describe('the relay to a database that listens on loopback only', () => {
  it('carries the answer back to a client that ended its side first', async () => {
    const relay = createDatabaseRelay({ listenHost: async () => '127.0.0.1', listenPort: 0 });
    try {
      const port = await relay.portFor({ host: '127.0.0.1', port: upstreamPort });
      expect(await ask(port, 'hello')).toBe('got hello');
    } finally {
      await relay.close();
    }
  });

  it('listens again on the port an adopted run was given, whatever the configured port', async () => {
    const first = createDatabaseRelay({ listenHost: async () => '127.0.0.1', listenPort: 0 });
    const given = await first.portFor({ host: '127.0.0.1', port: upstreamPort });
    await first.close();
    const next = createDatabaseRelay({ listenHost: async () => '127.0.0.1', listenPort: 0 });
    try {
      expect(await next.portFor({ host: '127.0.0.1', port: upstreamPort }, given)).toBe(given);
      expect(await ask(given, 'again')).toBe('got again');
    } finally {
      await next.close();
    }
  });
});
