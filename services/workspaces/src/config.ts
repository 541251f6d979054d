import { commonConfig, databaseSchemaConfig, int, loadConfig, type ConfigOf } from '@hexa/kit';

export const workspacesConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the workspaces service', { default: 8082, min: 0, max: 65535 }),
  DATABASE_SCHEMA: databaseSchemaConfig('workspaces'),
  OUTBOX_RELAY_INTERVAL_MS: int('pause between two passes of the outbox relay', { default: 1000, min: 50, max: 60_000 }),
};

export type WorkspacesConfig = ConfigOf<typeof workspacesConfigSpec>;

export function loadWorkspacesConfig(env: NodeJS.ProcessEnv = process.env): WorkspacesConfig {
  return loadConfig(workspacesConfigSpec, env);
}
