import type { IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DestinationStream } from 'pino';
import { accessChangedChannel, createDatabase, createRedis, migrateToLatest } from '@hexa/kit';
import {
  createServiceSchema,
  dropSchema,
  dropWorkspaceClusterObjects,
  generateSigningKeys,
  serviceKeyEnv,
  subscribed,
  testEncryptionKey,
  testRedisUrl,
  testWorkspaceClusterAdminUrl,
  uniqueQueuePrefix,
  uniqueWorkspaceDatabasePrefix,
} from '@hexa/testing';
import { buildMembershipApp, createUsersService, loadMembershipConfig, membershipMigrations, type MembershipConfig, type MembershipDatabase, type PasswordVerifier } from '@hexa/membership';
import { buildWorkspacesApp, loadWorkspacesConfig, workspacesMigrations, type WorkspacesDatabase } from '@hexa/workspaces';
import { buildDatabasesApp, databasesMigrations, loadDatabasesConfig, type DatabasesConfig, type DatabasesDatabase } from '@hexa/databases';
import { buildRunnerApp, loadRunnerConfig, runnerMigrations, type RunnerConfig, type RunnerDatabase } from '@hexa/runner';
import { buildFilesApp, filesMigrations, loadFilesConfig, type FilesConfig, type FilesDatabase } from '@hexa/files';
import { buildGatewayApp, loadGatewayConfig } from '../src/index.js';

/** A request as a service behind the gateway received it. */
export interface Received {
  service: 'membership' | 'workspaces' | 'databases' | 'runner' | 'files';
  method: string;
  /** The raw request target, as it arrived on the service's socket. */
  url: string;
  /** The route it matched, or undefined when none did. */
  route: string | undefined;
  headers: IncomingHttpHeaders;
}

export interface GatewayOptions {
  /** Overrides of the gateway's environment (WORKSPACES_URL, HEXA_TRUST_PROXY, timeouts…). */
  env?: Record<string, string>;
  logDestination?: DestinationStream;
}

export const ownerLogin = { email: 'owner@example.org', password: 'owner password 123' };

export interface Stack {
  gateway: FastifyInstance;
  membership: FastifyInstance;
  workspaces: FastifyInstance;
  databases: FastifyInstance;
  runner: FastifyInstance;
  /** The runner's settings: its worker (which tests run themselves) takes the same. */
  runnerConfig: RunnerConfig;
  files: FastifyInstance;
  /** The files service's settings (its folder of workspace folders: HEXA_FILES_DIR). */
  filesConfig: FilesConfig;
  /** The databases service's settings: its worker (which tests run themselves) takes the same. */
  databasesConfig: DatabasesConfig;
  schemas: { membership: string; workspaces: string; databases: string; runner: string; files: string };
  /** Membership's configuration: what its worker runs with (tests start workers themselves). */
  membershipConfig: MembershipConfig;
  queuePrefix: string;
  keys: { privateKey: string; publicKey: string };
  urls: { membership: string; workspaces: string; databases: string; runner: string; files: string };
  /** Every request membership, workspaces and databases received, in order. */
  received: Received[];
  /**
   * Another gateway in front of the same services (closed with the stack),
   * with its own settings: to put a misbehaving server in place of a service.
   */
  startGateway(options?: GatewayOptions): Promise<FastifyInstance>;
  /** A request through the gateway, as a client sends it. */
  call(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  /** Signs in through the gateway; returns the access token. */
  login(email: string, password: string): Promise<string>;
  /** Creates a user through the gateway as the owner; returns the new user's access token and id. */
  createUser(email: string, organizationRole: 'OWNER' | 'ADMIN' | 'MEMBER'): Promise<{ token: string; id: string }>;
  close(): Promise<void>;
}

/**
 * A port nothing listens on now: each service is called by the other, so one must know the other's port
 * before either listens. Taken at random below Linux's ephemeral range (32768–60999) and away from the fixed
 * platform ports (27080–31089): a port the kernel hands out for outgoing connections (the suite opens
 * thousands) could be taken between this check and the service's listen, as happened once.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 7000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return candidate;
    }
  }
}

/**
 * The whole platform in one process: membership and workspaces listening on
 * ephemeral ports, each on its own schema, and the gateway in front of them,
 * all sharing one fresh queue prefix.
 */
export async function startStack(
  options: {
    workspacesRedisUrl?: string;
    accessCacheTtlMs?: number;
    /** Extra settings of membership. */
    membershipEnv?: Record<string, string>;
    /** Extra settings of workspaces. */
    workspacesEnv?: Record<string, string>;
    /** Membership's password check (the real one, wrapped to count calls). */
    verifyPassword?: PasswordVerifier;
    /** Extra settings of the databases service (and of its worker, through `databasesConfig`). */
    databasesEnv?: Record<string, string>;
    /** Extra settings of the runner (and of its worker, through `runnerConfig`). */
    runnerEnv?: Record<string, string>;
    /** Where the runner service's log lines go (with `runnerEnv.LOG_LEVEL`). */
    runnerLogDestination?: DestinationStream;
    /** Extra settings of the files service. */
    filesEnv?: Record<string, string>;
    /** Where the files service's log lines go (with `filesEnv.LOG_LEVEL`). */
    filesLogDestination?: DestinationStream;
  } & GatewayOptions = {},
): Promise<Stack> {
  // Each service on its own schema, connected as its own role, as in production.
  const databases = {
    membership: await createServiceSchema('membership'),
    workspaces: await createServiceSchema('workspaces'),
    databases: await createServiceSchema('databases'),
    runner: await createServiceSchema('runner'),
    files: await createServiceSchema('files'),
  };
  const schemas = {
    membership: databases.membership.schema,
    workspaces: databases.workspaces.schema,
    databases: databases.databases.schema,
    runner: databases.runner.schema,
    files: databases.files.schema,
  };
  const queuePrefix = uniqueQueuePrefix();
  const keys = generateSigningKeys();
  const common = { REDIS_URL: testRedisUrl, HEXA_QUEUE_PREFIX: queuePrefix, LOG_LEVEL: 'silent' };
  const received: Received[] = [];
  const record = (service: Received['service'], app: FastifyInstance) =>
    app.addHook('onRequest', async (request) => {
      received.push({ service, method: request.method, url: request.raw.url ?? '', route: request.routeOptions.url, headers: request.headers });
    });

  // Membership asks workspaces about a workspace when it invites; workspaces asks membership to grant creators.
  const workspacesPort = await freePort();
  // The runner's worker asks the files service for a run's connections: its port is known before it listens.
  const filesPort = await freePort();
  const membershipConfig = loadMembershipConfig({
    ...common,
    ...serviceKeyEnv('membership'),
    WORKSPACES_URL: `http://127.0.0.1:${workspacesPort}`,
    DATABASE_URL: databases.membership.url,
    DATABASE_SCHEMA: schemas.membership,
    HEXA_JWT_PRIVATE_KEY: keys.privateKey,
    ...options.membershipEnv,
  });
  const membershipDb = createDatabase<MembershipDatabase>({ url: membershipConfig.DATABASE_URL, schema: schemas.membership });
  await migrateToLatest(membershipDb, schemas.membership, membershipMigrations);
  await createUsersService({ db: membershipDb }).seedOwner({ ...ownerLogin, name: 'Olive Owner' });
  const membership = await buildMembershipApp({
    config: membershipConfig,
    db: membershipDb,
    redis: createRedis(testRedisUrl),
    ...(options.verifyPassword ? { verifyPassword: options.verifyPassword } : {}),
  });
  record('membership', membership);
  const membershipUrl = await membership.listen({ host: '127.0.0.1', port: 0 });

  const workspacesRedisUrl = options.workspacesRedisUrl ?? testRedisUrl;
  const workspacesConfig = loadWorkspacesConfig({ ...common, ...serviceKeyEnv('workspaces'), REDIS_URL: workspacesRedisUrl, DATABASE_URL: databases.workspaces.url, DATABASE_SCHEMA: schemas.workspaces, MEMBERSHIP_URL: membershipUrl, ...options.workspacesEnv });
  const workspacesDb = createDatabase<WorkspacesDatabase>({ url: workspacesConfig.DATABASE_URL, schema: schemas.workspaces });
  await migrateToLatest(workspacesDb, schemas.workspaces, workspacesMigrations);
  const workspaces = await buildWorkspacesApp({ config: workspacesConfig, db: workspacesDb, redis: createRedis(workspacesRedisUrl) });
  record('workspaces', workspaces);
  const workspacesUrl = await workspaces.listen({ host: '127.0.0.1', port: workspacesPort });

  // The files service keeps each workspace's files in a folder of its own under a fresh HEXA_FILES_DIR.
  const filesDir = mkdtempSync(join(tmpdir(), 'hexa-files-'));
  const filesConfig = loadFilesConfig({
    ...common,
    ...serviceKeyEnv('files'),
    DATABASE_URL: databases.files.url,
    DATABASE_SCHEMA: schemas.files,
    WORKSPACES_URL: workspacesUrl,
    HEXA_FILES_DIR: filesDir,
    HEXA_CONNECTIONS_ENCRYPTION_KEY: testEncryptionKey(),
    ...options.filesEnv,
  });
  // Migrated while the databases service starts: neither needs the other.
  const filesDb = createDatabase<FilesDatabase>({ url: filesConfig.DATABASE_URL, schema: schemas.files });
  const filesMigrated = migrateToLatest(filesDb, schemas.files, filesMigrations);
  // Awaited below; until then a failure must not count as unhandled.
  filesMigrated.catch(() => undefined);

  // The databases service reaches the workspace cluster only when its worker runs (tests start it when they need it).
  const workspaceDatabasePrefix = uniqueWorkspaceDatabasePrefix();
  const databasesConfig = loadDatabasesConfig({
    ...common,
    ...serviceKeyEnv('databases'),
    DATABASE_URL: databases.databases.url,
    DATABASE_SCHEMA: schemas.databases,
    HEXA_WORKSPACE_DB_ADMIN_URL: testWorkspaceClusterAdminUrl,
    HEXA_WORKSPACE_DB_PREFIX: workspaceDatabasePrefix,
    HEXA_DATABASE_ENCRYPTION_KEY: testEncryptionKey(),
    ...options.databasesEnv,
  });
  const databasesDb = createDatabase<DatabasesDatabase>({ url: databasesConfig.DATABASE_URL, schema: schemas.databases });
  await migrateToLatest(databasesDb, schemas.databases, databasesMigrations);
  const databasesApp = await buildDatabasesApp({ config: databasesConfig, db: databasesDb, redis: createRedis(testRedisUrl) });
  record('databases', databasesApp);
  const databasesUrl = await databasesApp.listen({ host: '127.0.0.1', port: 0 });

  // The runner starts containers only when its worker runs (tests start it when they need it).
  const runnerConfig = loadRunnerConfig({
    ...common,
    ...serviceKeyEnv('runner'),
    DATABASE_URL: databases.runner.url,
    DATABASE_SCHEMA: schemas.runner,
    WORKSPACES_URL: workspacesUrl,
    DATABASES_URL: databasesUrl,
    FILES_URL: `http://127.0.0.1:${filesPort}`,
    // Each stack's containers carry their own instance label: no test touches another's.
    HEXA_RUNNER_INSTANCE: queuePrefix.replace(/[^a-z0-9_-]/g, '-'),
    ...options.runnerEnv,
  });
  const runnerDb = createDatabase<RunnerDatabase>({ url: runnerConfig.DATABASE_URL, schema: schemas.runner });
  await migrateToLatest(runnerDb, schemas.runner, runnerMigrations);
  const runnerApp = await buildRunnerApp({
    config: runnerConfig,
    db: runnerDb,
    redis: createRedis(testRedisUrl),
    ...(options.runnerLogDestination ? { logDestination: options.runnerLogDestination } : {}),
  });
  record('runner', runnerApp);
  const runnerUrl = await runnerApp.listen({ host: '127.0.0.1', port: 0 });
  await filesMigrated;
  const filesApp = await buildFilesApp({
    config: filesConfig,
    db: filesDb,
    redis: createRedis(testRedisUrl),
    ...(options.filesLogDestination ? { logDestination: options.filesLogDestination } : {}),
  });
  record('files', filesApp);
  const filesUrl = await filesApp.listen({ host: '127.0.0.1', port: filesPort });

  const extraGateways: FastifyInstance[] = [];
  const buildGateway = async (gatewayOptions: GatewayOptions, cacheTtlMs?: number) => {
    const gatewayConfig = loadGatewayConfig({
      ...common,
      ...serviceKeyEnv('gateway'),
      HEXA_JWT_PUBLIC_KEY: keys.publicKey,
      MEMBERSHIP_URL: membershipUrl,
      WORKSPACES_URL: workspacesUrl,
      DATABASES_URL: databasesUrl,
      RUNNER_URL: runnerUrl,
      FILES_URL: filesUrl,
      ...(cacheTtlMs === undefined ? {} : { ACCESS_CACHE_TTL_MS: String(cacheTtlMs) }),
      ...gatewayOptions.env,
    });
    const redis = createRedis(testRedisUrl);
    const app = await buildGatewayApp({
      config: gatewayConfig,
      redis,
      subscriber: createRedis(testRedisUrl, 'subscriber'),
      ...(gatewayOptions.logDestination ? { logDestination: gatewayOptions.logDestination } : {}),
    });
    await app.ready();
    // Until its Redis connection is up, a gateway skips the address limits (as when Redis is down): tests
    // that count on them start counting once it is (on a loaded machine that is not at once).
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    return app;
  };
  const gateway = await buildGateway(options, options.accessCacheTtlMs);
  // The access-change subscription must be live before tests rely on invalidation.
  await subscribed(accessChangedChannel(queuePrefix));

  const call: Stack['call'] = ({ token, headers, ...rest }) =>
    gateway.inject({ ...rest, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const login: Stack['login'] = async (email, password) => {
    const response = await call({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
    if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
    return response.json().accessToken as string;
  };
  let ownerToken: string | undefined;
  return {
    gateway,
    membership,
    workspaces,
    databases: databasesApp,
    runner: runnerApp,
    runnerConfig,
    files: filesApp,
    filesConfig,
    databasesConfig,
    schemas,
    membershipConfig,
    queuePrefix,
    keys,
    urls: { membership: membershipUrl, workspaces: workspacesUrl, databases: databasesUrl, runner: runnerUrl, files: filesUrl },
    received,
    async startGateway(gatewayOptions = {}) {
      const app = await buildGateway(gatewayOptions);
      extraGateways.push(app);
      return app;
    },
    call,
    login,
    async createUser(email, organizationRole) {
      ownerToken ??= await login(ownerLogin.email, ownerLogin.password);
      const password = `password of ${email}`;
      const response = await call({ method: 'POST', url: '/api/users', token: ownerToken, payload: { email, name: email.split('@')[0], password, organizationRole } });
      if (response.statusCode !== 201) throw new Error(`createUser failed: ${response.statusCode} ${response.body}`);
      return { token: await login(email, password), id: response.json().id as string };
    },
    async close() {
      for (const app of extraGateways) await app.close();
      await gateway.close();
      await workspaces.close();
      await databasesApp.close();
      await runnerApp.close();
      await filesApp.close();
      await membership.close();
      await dropSchema(schemas.membership);
      await dropSchema(schemas.workspaces);
      await dropSchema(schemas.databases);
      await dropSchema(schemas.runner);
      await dropSchema(schemas.files);
      rmSync(filesDir, { recursive: true, force: true });
      await dropWorkspaceClusterObjects(workspaceDatabasePrefix);
    },
  };
}
