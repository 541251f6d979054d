import { httpError } from '@hexa/kit';

/**
 * Lists count their matches up to this many, and serve pages within them:
 * an answer never costs more than this many index entries, however large
 * the organization or the audit trail (docs/decisions/0008).
 */
export const maxCountedItems = 10_000;

/** Refuses a page that starts past the counted window: the client should narrow the search instead. */
export function assertPageWithinCap(page: number, perPage: number, what: string): void {
  if ((page - 1) * perPage >= maxCountedItems) {
    throw httpError('invalid_input', `Only the first ${maxCountedItems} ${what} are paged; narrow the search.`, {
      errors: [{ field: 'querystring/page', message: `page ${page} of ${perPage} starts past the first ${maxCountedItems} ${what}` }],
    });
  }
}

/** The paging fields of an answer, from a count that stopped at `maxCountedItems + 1`. */
export function pageInfo(counted: number, page: number, perPage: number): { page: number; perPage: number; totalItems: number; totalPages: number; totalItemsCapped: boolean } {
  const totalItemsCapped = counted > maxCountedItems;
  const totalItems = Math.min(counted, maxCountedItems);
  return { page, perPage, totalItems, totalPages: Math.ceil(totalItems / perPage), totalItemsCapped };
}
