import countries from 'i18n-iso-countries';
import type { Schemas } from '@hexa/contract';

const names = countries.getNames('en', { select: 'official' });

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
