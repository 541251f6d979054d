/**
 * The one registry of the platform's services. Everything that lists them is
 * derived from here: the contract's `x-service` values, each service's setting
 * for the others' base URLs (`<NAME>_URL`), the gateway's routing and
 * readiness, and the processes `npm start` runs (`services/<name>/src/
 * server.ts`, `worker.ts`, `migrate.ts`). Adding a service is one entry.
 *
 * @example
 * serviceRegistry.workspaces.port // 8082
 */
export interface ServiceEntry {
  /** The port its HTTP server listens on by default. */
  readonly port: number;
  /** Owns a PostgreSQL schema: its own login role and migrations (`src/migrate.ts`). */
  readonly database: boolean;
  /** Runs a worker process (`src/worker.ts`): queue consumers, an outbox relay. */
  readonly worker: boolean;
}

export const serviceRegistry = {
  gateway: { port: 8080, database: false, worker: false },
  membership: { port: 8081, database: true, worker: true },
  workspaces: { port: 8082, database: true, worker: true },
  databases: { port: 8083, database: true, worker: true },
  runner: { port: 8084, database: true, worker: true },
  files: { port: 8085, database: true, worker: true },
} as const satisfies Record<string, ServiceEntry>;

export type ServiceName = keyof typeof serviceRegistry;
export const serviceNames = Object.keys(serviceRegistry) as ServiceName[];

/** The services behind the gateway, which it forwards to. */
export type BackendServiceName = Exclude<ServiceName, 'gateway'>;
export const backendServiceNames = serviceNames.filter((name): name is BackendServiceName => name !== 'gateway');

/** The setting that holds a service's internal base URL: `MEMBERSHIP_URL`. */
export function serviceUrlSetting(service: ServiceName): `${Uppercase<ServiceName>}_URL` {
  return `${service.toUpperCase()}_URL` as `${Uppercase<ServiceName>}_URL`;
}
