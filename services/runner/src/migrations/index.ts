import type { Migration } from 'kysely';
import * as initial from './2026-12-02T1000-initial.js';
import * as maskedVariables from './2026-12-02T1100-masked-variables.js';

/** Every migration of the runner schema, applied in name order. */
export const migrations: Record<string, Migration> = {
  '2026-12-02T1000-initial': initial,
  '2026-12-02T1100-masked-variables': maskedVariables,
};
