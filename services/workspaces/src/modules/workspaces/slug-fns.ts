import { randomBytes } from 'node:crypto';

/** A slug is at most 63 characters (a DNS label, so it can name hosts and databases). */
export const maxSlugLength = 63;
const suffixLength = 6;

/**
 * Derives a slug from a name: lower-case ASCII letters, digits and single
 * hyphens.
 *
 * @example
 * slugify('Santé Publique — Burkina Faso') // 'sante-publique-burkina-faso'
 */
export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxSlugLength)
    .replace(/-+$/, '');
  return base || 'workspace';
}

/** The slug with a short random suffix, for when the plain one is taken. */
export function withRandomSuffix(slug: string): string {
  const suffix = randomBytes(8).toString('hex').slice(0, suffixLength);
  return `${slug.slice(0, maxSlugLength - suffixLength - 1).replace(/-+$/, '')}-${suffix}`;
}
