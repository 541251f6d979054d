import type { Schemas } from '@hexa/contract';

/** What the content pages call each kind of relation (pg_class.relkind). */
export const relationKinds: Record<string, Schemas['DatabaseTable']['kind']> = {
  r: 'table',
  p: 'partitioned-table',
  v: 'view',
  m: 'materialized-view',
  f: 'foreign-table',
};

/** A value longer than this is cut: one cell must not make a page megabytes long. */
export const cellMaxLength = 4096;

/**
 * Columns a content page shows of one relation, first by position: PostgreSQL allows 1,600, and a page of
 * rows is rows × columns × cells of up to `cellMaxLength` characters.
 */
export const columnMaxCount = 100;

/**
 * A cell as the API shows it: PostgreSQL's text form, cut at `cellMaxLength`
 * characters with an ellipsis.
 *
 * @example
 * cellOf('x'.repeat(5000)) // 'xxxx…' (4096 x, then …)
 */
export function cellOf(value: string | null): string | null {
  if (value === null || value.length <= cellMaxLength) return value;
  return `${value.slice(0, cellMaxLength)}…`;
}

/**
 * The row count shown for a relation: exact when a count limited to `limit +
 * 1` rows found at most `limit`, PostgreSQL's estimate otherwise.
 *
 * @example
 * rowCountOf({ counted: 12, estimate: -1, limit: 10_000 }) // { rowCount: 12, rowCountExact: true }
 */
export function rowCountOf(options: { counted: number | null; estimate: number; limit: number }): { rowCount: number | null; rowCountExact: boolean } {
  const { counted, estimate, limit } = options;
  if (counted !== null && counted <= limit) return { rowCount: counted, rowCountExact: true };
  const estimated = Math.max(Math.round(estimate), counted ?? 0);
  return estimated > 0 ? { rowCount: estimated, rowCountExact: false } : { rowCount: null, rowCountExact: false };
}
