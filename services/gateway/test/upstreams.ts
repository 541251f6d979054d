import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';

// Small real servers that stand where a service stands behind the gateway: one that records what
// it receives and answers as each test tells it, and one that misbehaves below HTTP.

export interface Arrival {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface HttpUpstream {
  url: string;
  arrivals: Arrival[];
  /** How the next requests are answered; by default the body's length and digest, as JSON. */
  handle: (request: IncomingMessage, response: ServerResponse) => void;
  close(): Promise<void>;
}

/** Reads a body to its end and answers its length and SHA-256, as JSON. */
export function answerDigest(request: IncomingMessage, response: ServerResponse): void {
  const hash = createHash('sha256');
  let bytes = 0;
  request.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export async function startHttpUpstream(): Promise<HttpUpstream> {
  const upstream: HttpUpstream = {
    url: '',
    arrivals: [],
    handle: answerDigest,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createHttpServer((request, response) => {
    upstream.arrivals.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    upstream.handle(request, response);
  });
  upstream.url = `http://127.0.0.1:${await listen(server)}`;
  return upstream;
}

export interface RawUpstream {
  url: string;
  /** How many requests arrived (counted when their head is complete). */
  arrivals: number;
  /** What to do with a connection once a request head has arrived on it. */
  handle: (socket: Socket) => void;
  close(): Promise<void>;
}

/** A TCP server that reads a request head, then does whatever `handle` says: hang, hang up, write garbage. */
export async function startRawUpstream(): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const upstream: RawUpstream = {
    url: '',
    arrivals: 0,
    handle: (socket) => socket.destroy(),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      upstream.arrivals += 1;
      upstream.handle(socket);
    };
    socket.on('data', onData);
  });
  upstream.url = `http://127.0.0.1:${await listen(server)}`;
  return upstream;
}

/** A URL where nothing listens (a port just released): a service that is down. */
export async function refusingUrl(): Promise<string> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
