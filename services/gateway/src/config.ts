import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { commonConfig, int, loadConfig, str, type ConfigField, type ConfigOf } from '@hexa/kit';

/** proxy-addr's names for whole ranges, which Fastify's `trustProxy` accepts beside addresses and CIDRs. */
const namedRanges = ['loopback', 'linklocal', 'uniquelocal'];

function isAddressOrRange(item: string): boolean {
  if (namedRanges.includes(item)) return true;
  const [address = '', bits, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Whose `X-Forwarded-For` to believe: `false` (nobody: the socket's address is
 * the client), `true` (every hop: only when nothing but the load balancer can
 * reach the gateway), or a comma-separated list of addresses and CIDRs.
 */
function trustProxy(description: string): ConfigField<boolean | string> {
  return {
    description,
    default: false,
    parse(raw) {
      const value = raw.trim().toLowerCase();
      if (value === 'false') return false;
      if (value === 'true') return true;
      const items = raw.split(',').map((item) => item.trim());
      const wrong = items.filter((item) => !isAddressOrRange(item));
      if (wrong.length > 0) throw new Error(`must be true, false or a comma-separated list of addresses or CIDRs; not ${wrong.map((item) => JSON.stringify(item)).join(', ')}`);
      return items.join(',');
    },
  };
}

/** The console's build in this repository (`pnpm console:build` writes it). */
const defaultConsoleDir = fileURLToPath(new URL('../../../apps/console/dist', import.meta.url));

export const gatewayConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the gateway (the platform URL)', { default: 8080, min: 0, max: 65535 }),
  HEXA_JWT_PUBLIC_KEY: str('Ed25519 public key (SPKI PEM) that verifies access tokens', { pattern: /BEGIN PUBLIC KEY/ }),
  HEXA_TRUST_PROXY: trustProxy('which proxies in front of the gateway may name the client in X-Forwarded-For: false, true, or addresses/CIDRs separated by commas'),
  ACCESS_CACHE_TTL_MS: int('how long a resolved role is cached without an invalidation', { default: 30_000, min: 0, max: 600_000 }),
  ACCESS_CACHE_MAX_ENTRIES: int('how many resolved roles (user × workspace) the gateway keeps at most', { default: 50_000, min: 1, max: 10_000_000 }),
  UPSTREAM_HEADERS_TIMEOUT_MS: int('how long a service may take to start answering before the gateway answers 503', { default: 30_000, min: 100, max: 600_000 }),
  UPSTREAM_BODY_IDLE_TIMEOUT_MS: int('how long a streamed body (either way) may stay silent before the connection is cut; 0 never cuts', { default: 600_000, min: 0, max: 86_400_000 }),
  MAX_REQUEST_BODY_BYTES: int('a request announcing a longer body is refused (413) before anything is forwarded; the service applies its own, smaller limit', {
    default: 1024 ** 3,
    min: 1,
    max: 2 ** 50,
  }),
  PERSONAL_ACCESS_TOKEN_CACHE_TTL_MS: int('how long a resolved personal access token is cached (a revocation drops it at once)', { default: 30_000, min: 0, max: 600_000 }),
  // Short: the runner does not announce a run's end, so a finished run's token works at most this long more.
  RUN_TOKEN_CACHE_TTL_MS: int('how long a resolved run token (HEXA_TOKEN) is cached', { default: 2000, min: 0, max: 60_000 }),
  LOGIN_RATE_LIMIT_PER_MINUTE: int('sign-in attempts allowed per client address per minute', { default: 30, min: 1, max: 100_000 }),
  REFRESH_RATE_LIMIT_PER_MINUTE: int('session refreshes allowed per client address per minute', { default: 120, min: 1, max: 100_000 }),
  HEXA_CONSOLE_DIR: str('the web console\'s build folder, served at / (a relative path is taken from the working directory)', { default: defaultConsoleDir, minLength: 1 }),
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSpec, env);
}
