import { searchableName } from '../src/modules/workspaces/search-fns.js';

describe('when a name is folded for search', () => {
  it('ignores case, accents and repeated white space', () => {
    expect(searchableName('  Santé  Publique — BURKINA ')).toBe('sante publique — burkina');
    expect(searchableName('ÇA VA, Ñandú, Ärzte, İstanbul')).toBe('ca va, nandu, arzte, istanbul');
  });

  it('writes letters without a combining accent the way people type them', () => {
    expect(searchableName('Straße Łódź Ærø Œuvre Đà Nẵng')).toBe('strasse lodz aero oeuvre da nang');
  });

  it('keeps other scripts and punctuation as they are', () => {
    expect(searchableName('北京 100% Coverage_x')).toBe('北京 100% coverage_x');
  });
});
