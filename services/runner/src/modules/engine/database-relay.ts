import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** True for an address only this machine's own processes reach (a container does not). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The default bridge's gateway: where containers on it reach the host. Docker
 * names it in the network's IPAM settings, or it is the subnet's first address
 * (Docker's choice); the interface may be down while no container runs, so
 * the host's interface list does not show it.
 */
export function bridgeGatewayOf(ipam: { Gateway?: string; Subnet?: string }[] | undefined): string | undefined {
  const config = ipam?.find((entry) => entry.Gateway || /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(entry.Subnet ?? ''));
  if (!config) return undefined;
  if (config.Gateway) return config.Gateway;
  const [address] = config.Subnet!.split('/');
  const parts = address!.split('.').map(Number);
  parts[3] = parts[3]! + 1;
  return parts.join('.');
}

/**
 * Relays TCP from the Docker bridge to a server that listens on loopback
 * only (the workspace database cluster in development): containers get the
 * relay's address instead. Nothing else of the host is exposed, as host
 * networking would (Redis, the platform's PostgreSQL).
 */
export function createDatabaseRelay(options: { listenHost: () => Promise<string>; listenPort: number }) {
  const servers = new Map<string, Promise<{ server: Server; port: number }>>();
  const sockets = new Set<Socket>();

  function open(target: { host: string; port: number }, port: number): Promise<{ server: Server; port: number }> {
    // Half-open both ways: a client that ends its side (sent all it had) still gets the server's answer.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = connect({ port: target.port, host: target.host, allowHalfOpen: true });
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    return options.listenHost().then((host) => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve({ server, port: (server.address() as AddressInfo).port }));
    }));
  }

  return {
    /**
     * The port on the relay's host that reaches `target`, opened on first use:
     * on `port` when given (a run adopted after a restart was told that one),
     * else the configured port for the first target and a free one for others.
     */
    async portFor(target: { host: string; port: number }, port?: number): Promise<number> {
      const key = `${target.host}:${target.port}`;
      let entry = servers.get(key);
      if (!entry) {
        entry = open(target, port ?? (servers.size === 0 ? options.listenPort : 0));
        servers.set(key, entry);
        entry.catch(() => servers.delete(key));
      }
      return (await entry).port;
    },

    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await Promise.all([...servers.values()].map(async (entry) => {
        const { server } = await entry.catch(() => ({ server: undefined }));
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      }));
      servers.clear();
    },
  };
}

export type DatabaseRelay = ReturnType<typeof createDatabaseRelay>;
