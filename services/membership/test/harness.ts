import type { FastifyInstance } from 'fastify';
import { createDatabase, createRedis, migrateToLatest, signInternalToken, internalTokenHeader, type Caller } from '@hexa/kit';
import { dropSchema, generateSigningKeys, testDatabaseUrl, testInternalSecret, testRedisUrl, uniqueQueuePrefix, uniqueSchema } from '@hexa/testing';
import { buildMembershipApp, loadMembershipConfig, membershipMigrations, type MembershipConfig, type MembershipDatabase } from '../src/index.js';

export interface MembershipHarness {
  app: FastifyInstance;
  config: MembershipConfig;
  schema: string;
  publicKey: string;
  /** Headers that make a request look forwarded by the gateway for this caller. */
  as(caller: Caller): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** A membership app on its own schema and queue prefix. */
export async function startMembership(env: Record<string, string> = {}): Promise<MembershipHarness> {
  const schema = uniqueSchema('membership');
  const keys = generateSigningKeys();
  const config = loadMembershipConfig({
    DATABASE_URL: testDatabaseUrl,
    DATABASE_SCHEMA: schema,
    REDIS_URL: testRedisUrl,
    HEXA_QUEUE_PREFIX: uniqueQueuePrefix(),
    HEXA_INTERNAL_SECRET: testInternalSecret,
    HEXA_JWT_PRIVATE_KEY: keys.privateKey,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema });
  await migrateToLatest(db, schema, membershipMigrations);
  const app = await buildMembershipApp({ config, db, redis: createRedis(config.REDIS_URL) });
  await app.ready();
  return {
    app,
    config,
    schema,
    publicKey: keys.publicKey,
    as: async (caller) => ({ [internalTokenHeader]: await signInternalToken(testInternalSecret, { issuer: 'gateway', audience: 'membership', caller }) }),
    close: async () => {
      await app.close();
      await dropSchema(schema);
    },
  };
}
