import type { Migration } from 'kysely';
import * as initial from './2026-12-10T1000-initial.js';

/** Every migration of the files schema, applied in name order. */
export const migrations: Record<string, Migration> = {
  '2026-12-10T1000-initial': initial,
};
