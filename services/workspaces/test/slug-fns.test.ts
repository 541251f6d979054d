import { componentSchema } from '@hexa/contract';
import { maxSlugLength, slugify, withRandomSuffix } from '../src/modules/workspaces/slug-fns.js';

const { pattern } = componentSchema('Slug') as { pattern: string };
const slugPattern = new RegExp(pattern);

describe('slugify', () => {
  it('keeps lower-case ASCII letters and digits, dropping accents and joining words with single hyphens', () => {
    expect(slugify('Santé Publique — Burkina Faso')).toBe('sante-publique-burkina-faso');
    expect(slugify('  Ñandú  ÇA   2024!! ')).toBe('nandu-ca-2024');
    expect(slugify('COVID-19 / Vaccination')).toBe('covid-19-vaccination');
  });

  it('falls back to "workspace" when nothing of the name can be kept', () => {
    expect(slugify('')).toBe('workspace');
    expect(slugify('!!! ---')).toBe('workspace');
    expect(slugify('北京')).toBe('workspace');
  });

  it('cuts a long name to at most 63 characters without a trailing hyphen', () => {
    const slug = slugify(`${'a'.repeat(62)} b`);
    expect(slug).toBe('a'.repeat(62));
    const long = slugify('word '.repeat(40));
    expect(long.length).toBeLessThanOrEqual(maxSlugLength);
    expect(long).toMatch(slugPattern);
  });

  it('always gives a slug the contract accepts', () => {
    for (const name of ['Ünïcödé', 'a--b', '-lead and trail-', '0', 'x'.repeat(200), 'Malaria 🦟 Mali']) {
      expect(slugify(name)).toMatch(slugPattern);
    }
  });
});

describe('withRandomSuffix', () => {
  it('adds six random characters, stays within 63 characters and within the contract', () => {
    const first = withRandomSuffix('malaria');
    expect(first).toMatch(/^malaria-[a-f0-9]{6}$/);
    expect(withRandomSuffix('malaria')).not.toBe(first);
    const long = withRandomSuffix(slugify(`${'b'.repeat(56)} c d e`));
    expect(long.length).toBeLessThanOrEqual(maxSlugLength);
    expect(long).toMatch(slugPattern);
  });
});
