import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP hop in front of a service: it passes requests through, or,
 * once held, takes them and never answers, as a service that stopped
 * responding would. Its URL is known before the service it fronts listens.
 */
export interface PausableProxy {
  url: string;
  /** Where requests go when not held (set once the service listens). */
  target: string;
  /** Requests from now on are taken and left unanswered. */
  hold(): void;
  /** Requests from now on pass through again (those held stay unanswered). */
  pass(): void;
  /** How many requests were held. */
  held: number;
  close(): Promise<void>;
}

export async function startPausableProxy(): Promise<PausableProxy> {
  let holding = false;
  const proxy: PausableProxy = {
    url: '',
    target: '',
    hold: () => (holding = true),
    pass: () => (holding = false),
    held: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    if (holding) {
      proxy.held += 1;
      return;
    }
    const upstream = forward(`${proxy.target}${incoming.url ?? '/'}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
