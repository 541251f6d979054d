import type { ListPosition } from './workspaces-repository.js';

/** Where the next page of a list starts, and its number (so a page reached by cursor still says which it is). */
export interface ListCursor extends ListPosition {
  page: number;
}

/**
 * The `nextCursor` of a list: the last workspace's sort key and the next
 * page's number, opaque to clients (base64url of JSON).
 *
 * @example encodeListCursor({ searchName: 'sante publique', slug: 'sante-publique', page: 2 })
 */
export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.searchName, cursor.slug, cursor.page])).toString('base64url');
}

/** The cursor a list answered, or undefined when `text` is not one (a client's own or a damaged one). */
export function decodeListCursor(text: string): ListCursor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [searchName, slug, page] = value as unknown[];
  if (typeof searchName !== 'string' || typeof slug !== 'string' || !Number.isSafeInteger(page) || (page as number) < 2) return undefined;
  return { searchName, slug, page: page as number };
}
