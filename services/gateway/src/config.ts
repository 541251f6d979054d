import { commonConfig, int, loadConfig, str, url, type ConfigOf } from '@hexa/kit';

export const gatewayConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the gateway (the platform URL)', { default: 8080, min: 0, max: 65535 }),
  HEXA_JWT_PUBLIC_KEY: str('Ed25519 public key (SPKI PEM) that verifies access tokens', { pattern: /BEGIN PUBLIC KEY/ }),
  MEMBERSHIP_URL: url('internal URL of the membership service', { protocols: ['http', 'https'], default: 'http://127.0.0.1:8081' }),
  WORKSPACES_URL: url('internal URL of the workspaces service', { protocols: ['http', 'https'], default: 'http://127.0.0.1:8082' }),
  ACCESS_CACHE_TTL_MS: int('how long a resolved role is cached without an invalidation', { default: 30_000, min: 0, max: 600_000 }),
  PERSONAL_ACCESS_TOKEN_CACHE_TTL_MS: int('how long a resolved personal access token is cached (a revocation drops it at once)', { default: 30_000, min: 0, max: 600_000 }),
  LOGIN_RATE_LIMIT_PER_MINUTE: int('sign-in attempts allowed per client address per minute', { default: 30, min: 1, max: 100_000 }),
  REFRESH_RATE_LIMIT_PER_MINUTE: int('session refreshes allowed per client address per minute', { default: 120, min: 1, max: 100_000 }),
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSpec, env);
}
