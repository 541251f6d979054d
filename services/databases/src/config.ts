import { commonConfig, databaseSchemaConfig, int, keyringConfig, loadConfig, str, url, type ConfigOf } from '@hexa/kit';

export const databasesConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the databases service', { default: 8083, min: 0, max: 65535 }),
  DATABASE_SCHEMA: databaseSchemaConfig('databases'),
  // Short: a password rotation waits for this before its job reaches the worker (target: old password refused within 1 s).
  OUTBOX_RELAY_INTERVAL_MS: int('pause between two passes of the outbox relay', { default: 250, min: 50, max: 60_000 }),
  HEXA_WORKSPACE_DB_ADMIN_URL: url('login on the cluster that hosts the workspace databases, with CREATEDB and CREATEROLE (not a superuser); its host and port are where the service reaches them', {
    protocols: ['postgres', 'postgresql'],
    secret: true,
  }),
  HEXA_WORKSPACE_DB_HOST: str('host of the workspace databases as users are shown it (default: the admin URL\'s)', { default: '' }),
  HEXA_WORKSPACE_DB_PORT: int('port of the workspace databases as users are shown it (0: the admin URL\'s)', { default: 0, min: 0, max: 65535 }),
  // Names are <prefix><workspace id in hex>: the prefix keeps several platforms (or test runs) apart on one cluster.
  HEXA_WORKSPACE_DB_PREFIX: str('prefix of the generated database and role names', { default: 'hexa_ws_', pattern: /^[a-z][a-z0-9_]{0,19}$/ }),
  HEXA_DATABASE_ENCRYPTION_KEY: keyringConfig('key (32 bytes, base64) that encrypts the workspace databases\' passwords at rest (AES-256-GCM); to rotate, `new:<key>,k1:<old key>` (the first encrypts, all decrypt)'),
  WORKSPACE_DB_CONNECTION_LIMIT: int('connections each workspace database accepts at once', { default: 20, min: 1, max: 10_000 }),
  WORKSPACE_DB_STATEMENT_TIMEOUT_MS: int('statement_timeout of every session of a workspace database (0: none)', { default: 15 * 60_000, min: 0, max: 2_147_483_647 }),
  WORKSPACE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int('idle_in_transaction_session_timeout of a workspace database (0: none)', { default: 10 * 60_000, min: 0, max: 2_147_483_647 }),
  CONTENT_STATEMENT_TIMEOUT_MS: int('statement timeout of the content pages (tables, rows)', { default: 5000, min: 100, max: 600_000 }),
  CONTENT_EXACT_COUNT_LIMIT: int('row counts up to this are exact; above it, PostgreSQL\'s estimate', { default: 10_000, min: 0, max: 10_000_000 }),
  WORKER_CONCURRENCY: int('jobs the worker runs at once (each holds up to two connections to the workspace cluster)', { default: 4, min: 1, max: 64 }),
  JOB_LOCK_MS: int('a job whose worker died is taken over after this long', { default: 10_000, min: 1000, max: 600_000 }),
  JOB_STALLED_CHECK_MS: int('how often the worker looks for jobs whose worker died', { default: 10_000, min: 500, max: 600_000 }),
  RECONCILE_INTERVAL_MS: int('how often the reconciler looks for provisioning and rotations that have no job any more', { default: 30_000, min: 100, max: 3_600_000 }),
  RECONCILE_STALLED_AFTER_MS: int('provisioning or a rotation without progress this long, and without a job in Redis, is queued again', { default: 120_000, min: 100, max: 86_400_000 }),
};

export type DatabasesConfig = ConfigOf<typeof databasesConfigSpec>;

export function loadDatabasesConfig(env: NodeJS.ProcessEnv = process.env): DatabasesConfig {
  return loadConfig(databasesConfigSpec, env);
}
