/** Letters that carry no combining mark to strip but are written without accents in a plain search. */
const foldings: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i' };

/**
 * A name folded for search and sorting: lower-case, accents and other marks
 * removed, white space collapsed. Names and search texts go through the same
 * fold, so matching in SQL is a plain substring test on an indexed column.
 *
 * @example
 * searchableName('  Santé  Publique — BURKINA ') // 'sante publique — burkina'
 */
export function searchableName(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[ßæœøđðłþı]/g, (letter) => foldings[letter] ?? letter)
    .replace(/\s+/g, ' ')
    .trim();
}
