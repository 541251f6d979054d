import { contentDisposition, contentTypeOf, parseRange, pathSegments } from '../src/modules/files/files-fns.js';

describe('when a path is checked', () => {
  it('accepts nested names in any script and keeps them in NFC', () => {
    expect(pathSegments('reports/2026/cases.csv')).toEqual(['reports', '2026', 'cases.csv']);
    expect(pathSegments('données/e\u0301té.csv')).toEqual(['données', 'été.csv']);
    expect(pathSegments('...')).toEqual(['...']);
    expect(pathSegments('a..b/.hidden')).toEqual(['a..b', '.hidden']);
  });

  const refused: [string, RegExp][] = [
    ['', /is empty/],
    ['..', /climbs out/],
    ['a/../../etc/passwd', /climbs out/],
    ['./a', /\. segment/],
    ['/etc/passwd', /is absolute/],
    ['a\\..\\b', /backslash/],
    ['a\u0000b', /NUL or control/],
    ['a\nb', /NUL or control/],
    ['%2e%2e/x', /percent-encoded/],
    ['%252e%252e', /percent-encoded/],
    ['a%2Fb', /percent-encoded/],
    ['\uff0e\uff0e/x', /look-alike/],
    ['\u2025', /look-alike/],
    ['x\u2024\u2024', /look-alike/],
    ['a\uff0fb', /look-alike/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['n'.repeat(256), /longer than 255 bytes/],
    ['é'.repeat(128), /longer than 255 bytes/],
    [`${'a/'.repeat(600)}a`, /longer than 1024/],
    ['.hexa-upload-123', /reserved/],
  ];
  for (const [path, why] of refused) {
    it(`refuses ${JSON.stringify(path.slice(0, 40))} with invalid_path saying why`, () => {
      expect(() => pathSegments(path)).toThrow(why);
      try {
        pathSegments(path);
      } catch (error) {
        expect(error).toMatchObject({ code: 'invalid_path', status: 400 });
      }
    });
  }
});

describe('when a download is prepared', () => {
  it('names the type by extension and the file in Content-Disposition (RFC 6266, filename*)', () => {
    expect(contentTypeOf('a.CSV')).toBe('text/csv');
    expect(contentTypeOf('noextension')).toBe('application/octet-stream');
    expect(contentDisposition('cases "2026".csv')).toBe(`attachment; filename="cases _2026_.csv"; filename*=UTF-8''cases%20%222026%22.csv`);
    expect(contentDisposition("l'été.csv")).toBe(`attachment; filename="l'_t_.csv"; filename*=UTF-8''l%27%C3%A9t%C3%A9.csv`);
  });

  it('reads one byte range, ignores what it need not honour, and says when a range is outside', () => {
    expect(parseRange(undefined, 100)).toBeUndefined();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=95-200', 100)).toEqual({ start: 95, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-1', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
  });
});
