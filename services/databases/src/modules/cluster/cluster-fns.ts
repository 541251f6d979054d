import { randomBytes } from 'node:crypto';

/** The names of one workspace's database and its two logins on the workspace cluster. */
export interface WorkspaceDatabaseNames {
  database: string;
  /** The read-write login, owner of the database's `public` schema; the same name as the database. */
  owner: string;
  /** The read-only login of the content pages. */
  reader: string;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What a generated name may be: PostgreSQL's identifiers are at most 63 bytes, and these need no quoting (they are quoted anyway). */
const generatedNamePattern = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * The names of a workspace's database and logins, generated from its id and
 * never from anything a user typed.
 *
 * @example
 * databaseNamesFor('hexa_ws_', '3f2a…') // { database: 'hexa_ws_3f2a…', owner: 'hexa_ws_3f2a…', reader: 'hexa_ws_3f2a…_ro' }
 */
export function databaseNamesFor(prefix: string, workspaceId: string): WorkspaceDatabaseNames {
  if (!uuidPattern.test(workspaceId)) throw new Error('A workspace id is a UUID');
  const database = `${prefix}${workspaceId.replace(/-/g, '').toLowerCase()}`;
  const names = { database, owner: database, reader: `${database}_ro` };
  for (const name of Object.values(names)) {
    if (!generatedNamePattern.test(name)) throw new Error(`Generated name ${name} is not a plain identifier of at most 63 characters`);
  }
  return names;
}

/** Bytes of randomness in a generated password: 256 bits, 43 characters of base64url. */
const passwordBytes = 32;

/**
 * A new password for a workspace login: 43 characters of base64url from the
 * operating system's CSPRNG (safe in a URL without escaping).
 */
export function generatePassword(): string {
  return randomBytes(passwordBytes).toString('base64url');
}

/** Where the workspace databases are reached, and the TLS settings of the admin URL, for other logins. */
export interface ClusterEndpoint {
  host: string;
  port: number;
}

/**
 * The admin URL with another login and database: the same server and
 * connection options (TLS…), for the workspace logins.
 *
 * @example
 * loginUrl('postgres://admin:x@db:5433/postgres?sslmode=require', 'hexa_ws_…', password, 'hexa_ws_…')
 */
export function loginUrl(adminUrl: string, user: string, password: string, database: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** What the API shows of the cluster's address (HEXA_WORKSPACE_DB_HOST/PORT, else the admin URL's). */
export function shownEndpoint(endpoint: ClusterEndpoint, host: string, port: number): ClusterEndpoint {
  return { host: host || endpoint.host, port: port || endpoint.port };
}

/** The host and port of the admin URL. */
export function endpointOf(adminUrl: string): ClusterEndpoint {
  const url = new URL(adminUrl);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 5432 };
}

/**
 * The URL users are shown: `postgresql://user:password@host:port/database`.
 *
 * @example
 * userUrl({ host: 'db.example.org', port: 5432 }, 'hexa_ws_…', password, 'hexa_ws_…')
 */
export function userUrl(endpoint: ClusterEndpoint, user: string, password: string, database: string): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${endpoint.port}/${encodeURIComponent(database)}`;
}

/**
 * A workspace login refused by the cluster with the password the platform just
 * gave it (SQLSTATE 28P01 wrong password, 28000 login not allowed): not the
 * platform's admin login, whose refusal means a different fix.
 */
export class WorkspaceLoginRefused extends Error {
  constructor(
    readonly login: string,
    readonly code: string,
  ) {
    super(`The workspace database cluster refused login ${login} with the password just set (${code})`);
    this.name = 'WorkspaceLoginRefused';
  }
}
