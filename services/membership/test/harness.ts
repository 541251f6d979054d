import type { FastifyInstance } from 'fastify';
import { getOperation } from '@hexa/contract';
import { createDatabase, createRedis, migrateToLatest, internalTokenHeader, type Caller } from '@hexa/kit';
import { createServiceSchema, dropSchema, generateSigningKeys, serviceKeyEnv, testRedisUrl, tokensOf, uniqueQueuePrefix } from '@hexa/testing';
import { buildMembershipApp, loadMembershipConfig, membershipMigrations, type MembershipAppDeps, type MembershipConfig, type MembershipDatabase } from '../src/index.js';

export interface MembershipHarness {
  app: FastifyInstance;
  config: MembershipConfig;
  schema: string;
  publicKey: string;
  /**
   * Headers with an internal token minted for `operationId`: signed by the
   * caller's own service for a service caller, by the gateway otherwise.
   */
  as(caller: Caller, operationId: string): Record<string, string>;
  close(): Promise<void>;
}

/** A membership app on its own schema and queue prefix. */
export async function startMembership(env: Record<string, string> = {}, options: Pick<MembershipAppDeps, 'verifyPassword'> = {}): Promise<MembershipHarness> {
  // Its own schema, connected as membership's own role, as in production.
  const { schema, url } = await createServiceSchema('membership');
  const keys = generateSigningKeys();
  const config = loadMembershipConfig({
    DATABASE_URL: url,
    DATABASE_SCHEMA: schema,
    REDIS_URL: testRedisUrl,
    HEXA_QUEUE_PREFIX: uniqueQueuePrefix(),
    ...serviceKeyEnv('membership'),
    HEXA_JWT_PRIVATE_KEY: keys.privateKey,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema });
  await migrateToLatest(db, schema, membershipMigrations);
  const app = await buildMembershipApp({ config, db, redis: createRedis(config.REDIS_URL), ...options });
  await app.ready();
  return {
    app,
    config,
    schema,
    publicKey: keys.publicKey,
    as: (caller, operationId) => ({
      [internalTokenHeader]: tokensOf(caller.kind === 'service' ? caller.service : 'gateway').sign({ audience: 'membership', operation: getOperation(operationId).signature, caller }),
    }),
    close: async () => {
      await app.close();
      await dropSchema(schema);
    },
  };
}
