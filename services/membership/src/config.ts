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
  INVITATION_TTL_DAYS: int('how long an invitation link works after it was sent or resent', { default: 7, min: 1, max: 90 }),
  INVITATIONS_PER_WORKSPACE_PER_DAY: int('invitation e-mails (invitations and resends) one workspace may send in 24 hours', { default: 100, min: 1, max: 100_000 }),
  HEXA_SMTP_URL: url('SMTP server for e-mail (smtp:// or smtps://, credentials in the URL); empty writes each e-mail to HEXA_MAIL_DIR instead (development)', {
    protocols: ['smtp', 'smtps'],
    secret: true,
    default: '',
  }),
  HEXA_MAIL_FROM: str('sender of e-mails', { default: 'Hexa <no-reply@hexa.local>', pattern: /^[^\r\n]{3,200}$/ }),
  HEXA_MAIL_DIR: str('folder for e-mails when HEXA_SMTP_URL is empty (development)', { default: '.hexa/mail' }),
  OUTBOX_RELAY_INTERVAL_MS: int('pause between two passes of the outbox relay (worker)', { default: 1000, min: 50, max: 60_000 }),
};

export type MembershipConfig = ConfigOf<typeof membershipConfigSpec>;

export function loadMembershipConfig(env: NodeJS.ProcessEnv = process.env): MembershipConfig {
  return loadConfig(membershipConfigSpec, env);
}
