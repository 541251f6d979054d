import { commonConfig, databaseSchemaConfig, int, loadConfig, type ConfigField, type ConfigOf } from '@hexa/kit';
import { parseAllowList, parseImageReference } from './modules/workspaces/image-reference-fns.js';

/** The image every run starts from when a workspace names none; the runner's issue builds it. */
const platformDefaultImage = 'hexa/base-environment:latest';

function imageReference(description: string, defaultValue: string): ConfigField<string> {
  return {
    description,
    default: defaultValue,
    parse(raw) {
      const parsed = parseImageReference(raw);
      if (!parsed.ok) throw new Error(`is not an image reference: ${parsed.reason}`);
      return raw;
    },
  };
}

function imageAllowList(description: string): ConfigField<string[]> {
  return {
    description,
    default: [],
    parse(raw) {
      const patterns = parseAllowList(raw);
      const invalid = patterns.filter((pattern) => !/^[a-z0-9._\-/:@*[\]]+$/.test(pattern));
      if (invalid.length > 0) throw new Error(`patterns may hold lower-case letters, digits, . _ - / : @ [ ] and *; not ${invalid.map((pattern) => JSON.stringify(pattern)).join(', ')}`);
      return patterns;
    },
  };
}

export const workspacesConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the workspaces service', { default: 8082, min: 0, max: 65535 }),
  DATABASE_SCHEMA: databaseSchemaConfig('workspaces'),
  // Short: a new workspace's provisioning waits for the pass that sends its workspace.created.
  OUTBOX_RELAY_INTERVAL_MS: int('pause between two passes of the outbox relay', { default: 200, min: 50, max: 60_000 }),
  HEXA_DEFAULT_IMAGE: imageReference('the Docker image of a workspace that names none', platformDefaultImage),
  HEXA_IMAGE_ALLOW_LIST: imageAllowList('comma-separated patterns (`*` for any characters) of the images a workspace may name; empty allows any'),
};

export type WorkspacesConfig = ConfigOf<typeof workspacesConfigSpec>;

export function loadWorkspacesConfig(env: NodeJS.ProcessEnv = process.env): WorkspacesConfig {
  return loadConfig(workspacesConfigSpec, env);
}
