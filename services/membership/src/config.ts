import { commonConfig, databaseSchemaConfig, int, loadConfig, oneOf, str, type ConfigOf } from '@hexa/kit';

export const membershipConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the membership service', { default: 8081, min: 0, max: 65535 }),
  DATABASE_SCHEMA: databaseSchemaConfig('membership'),
  HEXA_JWT_PRIVATE_KEY: str('Ed25519 private key (PKCS8 PEM) that signs access tokens', { secret: true, pattern: /BEGIN PRIVATE KEY/ }),
  ACCESS_TOKEN_TTL_SECONDS: int('lifetime of an access token', { default: 900, min: 30, max: 3600 }),
  REFRESH_TOKEN_TTL_DAYS: int('lifetime of a refresh token family', { default: 30, min: 1, max: 365 }),
  HEXA_COOKIE_SECURE: oneOf('mark the refresh cookie Secure (true behind HTTPS)', ['true', 'false'], { default: 'false' }),
  LOGIN_MAX_FAILURES: int('failed logins allowed per e-mail (and 5× per client address) in a window', { default: 10, min: 1, max: 1000 }),
  LOGIN_WINDOW_SECONDS: int('length of the login rate-limit window', { default: 900, min: 1, max: 86400 }),
};

export type MembershipConfig = ConfigOf<typeof membershipConfigSpec>;

export function loadMembershipConfig(env: NodeJS.ProcessEnv = process.env): MembershipConfig {
  return loadConfig(membershipConfigSpec, env);
}
