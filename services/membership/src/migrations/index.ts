import type { Migration } from 'kysely';
import * as idempotencyKeys from './2026-11-29T1201-idempotency-keys.js';
import * as initial from './2026-11-26T1700-initial.js';
import * as inbox from './2026-11-29T1200-inbox.js';
import * as sessionFamiliesAndPersonalTokens from './2026-11-29T1200-session-families-and-personal-tokens.js';
import * as outbox from './2026-11-30T1000-outbox.js';
import * as invitations from './2026-11-30T1001-invitations.js';
import * as publishExistingMemberships from './2026-11-30T1100-publish-existing-memberships.js';
import * as archivedWorkspaces from './2026-11-30T1700-archived-workspaces.js';

/** Every migration of the membership schema, applied in name order. */
export const migrations: Record<string, Migration> = {
  '2026-11-26T1700-initial': initial,
  '2026-11-29T1200-inbox': inbox,
  '2026-11-29T1200-session-families-and-personal-tokens': sessionFamiliesAndPersonalTokens,
  '2026-11-29T1201-idempotency-keys': idempotencyKeys,
  '2026-11-30T1000-outbox': outbox,
  '2026-11-30T1001-invitations': invitations,
  '2026-11-30T1100-publish-existing-memberships': publishExistingMemberships,
  '2026-11-30T1700-archived-workspaces': archivedWorkspaces,
};
