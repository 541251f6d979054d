import { join } from 'node:path';
import { commonConfig, databaseSchemaConfig, int, keyringConfig, loadConfig, str, type ConfigOf } from '@hexa/kit';

const gibibyte = 1024 ** 3;

export const filesConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the files service', { default: 8085, min: 0, max: 65535 }),
  DATABASE_SCHEMA: databaseSchemaConfig('files'),
  // The runner bind-mounts <HEXA_FILES_DIR>/<workspace id> at /home/hexa/workspace: keep the two in step.
  HEXA_FILES_DIR: str('folder that holds one folder per workspace (named by its id) with its files', { default: join(process.cwd(), '.hexa', 'files'), minLength: 1 }),
  FILES_MAX_FILE_BYTES: int("largest file one upload may write (413 file_too_large above it); the gateway's MAX_REQUEST_BODY_BYTES must not be lower", { default: gibibyte, min: 1, max: 2 ** 50 }),
  FILES_WORKSPACE_QUOTA_BYTES: int('total size of a workspace\'s files (409 quota_exceeded when an upload would pass it)', { default: 50 * gibibyte, min: 1, max: 2 ** 50 }),
  HEXA_CONNECTIONS_ENCRYPTION_KEY: keyringConfig('key (32 bytes, base64) that encrypts connections\' secret values at rest (AES-256-GCM); to rotate, `new:<key>,k1:<old key>` (the first encrypts, all decrypt; values are re-encrypted when written)'),
  CONNECTION_TEST_TIMEOUT_MS: int('how long testing a connection may take', { default: 5000, min: 100, max: 60_000 }),
  OUTBOX_RELAY_INTERVAL_MS: int('pause between two passes of the outbox relay', { default: 500, min: 50, max: 60_000 }),
};

export type FilesConfig = ConfigOf<typeof filesConfigSpec>;

export function loadFilesConfig(env: NodeJS.ProcessEnv = process.env): FilesConfig {
  return loadConfig(filesConfigSpec, env);
}
