import countries from 'i18n-iso-countries';
import type { Schemas } from '@hexa/contract';

// The library also names Kosovo (`XK`), a code reserved for user assignment, not an ISO 3166-1 alpha-2 one.
const notIso = new Set(['XK']);
const names: Record<string, string> = Object.fromEntries(Object.entries(countries.getNames('en', { select: 'official' })).filter(([code]) => !notIso.has(code)));

/** Every ISO 3166-1 alpha-2 code with its English name, sorted by name. */
export const allCountries: Schemas['Country'][] = Object.entries(names)
  .map(([code, name]) => ({ code, name }))
  .sort((a, b) => a.name.localeCompare(b.name, 'en'));

export function isCountryCode(code: string): boolean {
  return Object.hasOwn(names, code);
}

export function toCountries(codes: readonly string[]): Schemas['Country'][] {
  return codes.map((code) => ({ code, name: names[code] ?? code }));
}
