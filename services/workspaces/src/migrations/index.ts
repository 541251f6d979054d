import type { Migration } from 'kysely';
import * as initial from './2026-11-26T1700-initial.js';

/** Every migration of the workspaces schema, applied in name order. */
export const migrations: Record<string, Migration> = {
  '2026-11-26T1700-initial': initial,
};
