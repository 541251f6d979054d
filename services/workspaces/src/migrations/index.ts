import type { Migration } from 'kysely';
import * as auditAndInbox from './2026-11-29T1300-audit-and-inbox.js';
import * as memberRoles from './2026-11-29T1400-member-roles.js';
import * as idempotencyKeys from './2026-11-29T1201-idempotency-keys.js';
import * as initial from './2026-11-26T1700-initial.js';
import * as outboxDeadLetters from './2026-11-29T1200-outbox-dead-letters.js';
import * as settingsAndConfiguration from './2026-11-29T1800-settings-and-configuration.js';
import * as memberRolesByName from './2026-11-30T0900-member-roles-by-name.js';
import * as listedCounts from './2026-11-30T1500-listed-counts.js';
import * as organizationCountSlots from './2026-11-30T1600-organization-count-slots.js';
import * as announceArchivedWorkspaces from './2026-11-30T1700-announce-archived-workspaces.js';

/** Every migration of the workspaces schema, applied in name order. */
export const migrations: Record<string, Migration> = {
  '2026-11-26T1700-initial': initial,
  '2026-11-29T1200-outbox-dead-letters': outboxDeadLetters,
  '2026-11-29T1201-idempotency-keys': idempotencyKeys,
  '2026-11-29T1300-audit-and-inbox': auditAndInbox,
  '2026-11-29T1400-member-roles': memberRoles,
  '2026-11-29T1800-settings-and-configuration': settingsAndConfiguration,
  '2026-11-30T0900-member-roles-by-name': memberRolesByName,
  '2026-11-30T1500-listed-counts': listedCounts,
  '2026-11-30T1600-organization-count-slots': organizationCountSlots,
  '2026-11-30T1700-announce-archived-workspaces': announceArchivedWorkspaces,
};
