import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { accessChangedChannel, createDatabase, createRedis, migrateToLatest } from '@hexa/kit';
import { createServiceSchema, dropSchema, generateSigningKeys, serviceKeyEnv, subscribed, testRedisUrl, uniqueQueuePrefix } from '@hexa/testing';
import { buildMembershipApp, createUsersService, loadMembershipConfig, membershipMigrations, type MembershipDatabase } from '@hexa/membership';
import { buildWorkspacesApp, loadWorkspacesConfig, workspacesMigrations, type WorkspacesDatabase } from '@hexa/workspaces';
import { buildGatewayApp, loadGatewayConfig } from '../src/index.js';

export const ownerLogin = { email: 'owner@example.org', password: 'owner password 123' };

export interface Stack {
  gateway: FastifyInstance;
  membership: FastifyInstance;
  workspaces: FastifyInstance;
  schemas: { membership: string; workspaces: string };
  queuePrefix: string;
  keys: { privateKey: string; publicKey: string };
  /** A request through the gateway, as a client sends it. */
  call(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  /** Signs in through the gateway; returns the access token. */
  login(email: string, password: string): Promise<string>;
  /** Creates a user through the gateway as the owner; returns the new user's access token and id. */
  createUser(email: string, organizationRole: 'OWNER' | 'ADMIN' | 'MEMBER'): Promise<{ token: string; id: string }>;
  close(): Promise<void>;
}

/**
 * The whole platform in one process: membership and workspaces listening on
 * ephemeral ports, each on its own schema, and the gateway in front of them,
 * all sharing one fresh queue prefix.
 */
export async function startStack(options: { workspacesRedisUrl?: string; accessCacheTtlMs?: number } = {}): Promise<Stack> {
  // Each service on its own schema, connected as its own role, as in production.
  const databases = { membership: await createServiceSchema('membership'), workspaces: await createServiceSchema('workspaces') };
  const schemas = { membership: databases.membership.schema, workspaces: databases.workspaces.schema };
  const queuePrefix = uniqueQueuePrefix();
  const keys = generateSigningKeys();
  const common = { REDIS_URL: testRedisUrl, HEXA_QUEUE_PREFIX: queuePrefix, LOG_LEVEL: 'silent' };

  const membershipConfig = loadMembershipConfig({ ...common, ...serviceKeyEnv('membership'), DATABASE_URL: databases.membership.url, DATABASE_SCHEMA: schemas.membership, HEXA_JWT_PRIVATE_KEY: keys.privateKey });
  const membershipDb = createDatabase<MembershipDatabase>({ url: membershipConfig.DATABASE_URL, schema: schemas.membership });
  await migrateToLatest(membershipDb, schemas.membership, membershipMigrations);
  await createUsersService({ db: membershipDb }).seedOwner({ ...ownerLogin, name: 'Olive Owner' });
  const membership = await buildMembershipApp({ config: membershipConfig, db: membershipDb, redis: createRedis(testRedisUrl) });
  const membershipUrl = await membership.listen({ host: '127.0.0.1', port: 0 });

  const workspacesRedisUrl = options.workspacesRedisUrl ?? testRedisUrl;
  const workspacesConfig = loadWorkspacesConfig({ ...common, ...serviceKeyEnv('workspaces'), REDIS_URL: workspacesRedisUrl, DATABASE_URL: databases.workspaces.url, DATABASE_SCHEMA: schemas.workspaces, MEMBERSHIP_URL: membershipUrl });
  const workspacesDb = createDatabase<WorkspacesDatabase>({ url: workspacesConfig.DATABASE_URL, schema: schemas.workspaces });
  await migrateToLatest(workspacesDb, schemas.workspaces, workspacesMigrations);
  const workspaces = await buildWorkspacesApp({ config: workspacesConfig, db: workspacesDb, redis: createRedis(workspacesRedisUrl) });
  const workspacesUrl = await workspaces.listen({ host: '127.0.0.1', port: 0 });

  const gatewayConfig = loadGatewayConfig({
    ...common,
    ...serviceKeyEnv('gateway'),
    HEXA_JWT_PUBLIC_KEY: keys.publicKey,
    MEMBERSHIP_URL: membershipUrl,
    WORKSPACES_URL: workspacesUrl,
    ...(options.accessCacheTtlMs === undefined ? {} : { ACCESS_CACHE_TTL_MS: String(options.accessCacheTtlMs) }),
  });
  const gateway = await buildGatewayApp({ config: gatewayConfig, redis: createRedis(testRedisUrl), subscriber: createRedis(testRedisUrl, 'subscriber') });
  await gateway.ready();
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
    schemas,
    queuePrefix,
    keys,
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
      await gateway.close();
      await workspaces.close();
      await membership.close();
      await dropSchema(schemas.membership);
      await dropSchema(schemas.workspaces);
    },
  };
}
