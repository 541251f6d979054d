import { commonConfig, int, loadConfig, str, url, type ConfigOf } from '@hexa/kit';

export const gatewayConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the gateway (the platform URL)', { default: 8080, min: 0, max: 65535 }),
  HEXA_JWT_PUBLIC_KEY: str('Ed25519 public key (SPKI PEM) that verifies access tokens', { pattern: /BEGIN PUBLIC KEY/ }),
  MEMBERSHIP_URL: url('internal URL of the membership service', { protocols: ['http', 'https'], default: 'http://127.0.0.1:8081' }),
  WORKSPACES_URL: url('internal URL of the workspaces service', { protocols: ['http', 'https'], default: 'http://127.0.0.1:8082' }),
  ACCESS_CACHE_TTL_MS: int('how long a resolved role is cached without an invalidation', { default: 30_000, min: 0, max: 600_000 }),
  ACCESS_CACHE_MAX_ENTRIES: int('how many resolved roles (user × workspace) the gateway keeps at most', { default: 50_000, min: 1, max: 10_000_000 }),
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSpec, env);
}
