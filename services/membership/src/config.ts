import { commonConfig, databaseSchemaConfig, int, loadConfig, str, url, type ConfigOf } from '@hexa/kit';

export const membershipConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the membership service', { default: 8081, min: 0, max: 65535 }),
  DATABASE_SCHEMA: databaseSchemaConfig('membership'),
  HEXA_JWT_PRIVATE_KEY: str('Ed25519 private key (PKCS8 PEM) that signs access tokens', { secret: true, pattern: /BEGIN PRIVATE KEY/ }),
  HEXA_PUBLIC_URL: url('the URL browsers reach the platform at; https marks the refresh cookie Secure, its path prefixes the cookie path', {
    protocols: ['http', 'https'],
    default: 'http://localhost:8080',
  }),
  ACCESS_TOKEN_TTL_SECONDS: int('lifetime of an access token', { default: 900, min: 30, max: 3600 }),
  REFRESH_TOKEN_TTL_DAYS: int('absolute lifetime of a session (a refresh-token family); rotation does not extend it', { default: 30, min: 1, max: 365 }),
  REFRESH_REUSE_GRACE_SECONDS: int('how long a used refresh token still gives a session (two tabs, a retry) before its reuse ends the family', { default: 10, min: 0, max: 60 }),
  LOGIN_MAX_FAILURES: int('sign-in attempts with a wrong password allowed per account in a window', { default: 10, min: 1, max: 1000 }),
  LOGIN_WINDOW_SECONDS: int('length of the per-account sign-in window', { default: 900, min: 1, max: 86400 }),
};

export type MembershipConfig = ConfigOf<typeof membershipConfigSpec>;

export function loadMembershipConfig(env: NodeJS.ProcessEnv = process.env): MembershipConfig {
  return loadConfig(membershipConfigSpec, env);
}
