import { canonicalImageName, createImagePolicy, imagePatternMatcher, parseImageReference } from '../src/modules/workspaces/image-reference-fns.js';

const digest = `sha256:${'a1'.repeat(32)}`;

describe('when an image reference is valid', () => {
  it.each([
    ['python', { domain: undefined, path: 'python', tag: undefined, digest: undefined }],
    ['python:3.12', { domain: undefined, path: 'python', tag: '3.12', digest: undefined }],
    ['python:3.12-slim-bookworm', { domain: undefined, path: 'python', tag: '3.12-slim-bookworm', digest: undefined }],
    ['library/python:latest', { domain: undefined, path: 'library/python', tag: 'latest', digest: undefined }],
    ['blsq/openhexa-base-environment:1.2.3', { domain: undefined, path: 'blsq/openhexa-base-environment', tag: '1.2.3', digest: undefined }],
    ['registry.example.org/hexa/python', { domain: 'registry.example.org', path: 'hexa/python', tag: undefined, digest: undefined }],
    ['registry.example.org:5000/hexa/python:3.12', { domain: 'registry.example.org:5000', path: 'hexa/python', tag: '3.12', digest: undefined }],
    ['localhost/x', { domain: 'localhost', path: 'x', tag: undefined, digest: undefined }],
    ['localhost:5000/team/x:v1', { domain: 'localhost:5000', path: 'team/x', tag: 'v1', digest: undefined }],
    ['[::1]:5000/x:1', { domain: '[::1]:5000', path: 'x', tag: '1', digest: undefined }],
    ['10.0.0.5:443/a/b/c', { domain: '10.0.0.5:443', path: 'a/b/c', tag: undefined, digest: undefined }],
    ['ghcr.io/org/repo_name__x.y-z:Tag_1.0-RC', { domain: 'ghcr.io', path: 'org/repo_name__x.y-z', tag: 'Tag_1.0-RC', digest: undefined }],
    ['a--b---c/d', { domain: undefined, path: 'a--b---c/d', tag: undefined, digest: undefined }],
    [`python@${digest}`, { domain: undefined, path: 'python', tag: undefined, digest }],
    [`registry.example.org/hexa/python:3.12@${digest}`, { domain: 'registry.example.org', path: 'hexa/python', tag: '3.12', digest }],
    [`x:${'t'.repeat(128)}`, { domain: undefined, path: 'x', tag: 't'.repeat(128), digest: undefined }],
  ])('parses %s', (text, reference) => {
    expect(parseImageReference(text)).toEqual({ ok: true, reference });
  });

  it('accepts up to 255 characters', () => {
    const longest = `${'a'.repeat(120)}/${'b'.repeat(129)}:1234`;
    expect(longest).toHaveLength(255);
    expect(parseImageReference(longest).ok).toBe(true);
  });
});

describe('when an image reference is not valid', () => {
  it.each([
    ['', /empty/],
    [' python', /white space/],
    ['python 3', /white space/],
    ['python\n', /white space/],
    ['Python', /repository "Python" must be lower-case/],
    ['hexa/Python:3', /must be lower-case/],
    ['Registry.example.org/x', /registry "Registry.example.org" must be lower-case/],
    ['python:', /tag "" must be/],
    ['python:.hidden', /tag ".hidden"/],
    ['python:-x', /tag "-x"/],
    ['python:a/b', /registry "python:a" is not a host name/],
    [`python:${'t'.repeat(129)}`, /tag/],
    ['python:3:4', /tag "3:4"/],
    ['python@sha256:abc', /digest "sha256:abc" must be "sha256:" followed by 64/],
    [`python@sha512:${'a'.repeat(128)}`, /digest/],
    [`python@sha256:${'A'.repeat(64)}`, /digest/],
    [`python@${digest}@${digest}`, /digest/],
    ['python@', /digest ""/],
    ['/python', /empty path component/],
    ['hexa//python', /empty path component/],
    ['hexa/python/', /empty path component/],
    ['registry.example.org/', /names no repository/],
    ['-python', /component "-python"/],
    ['python-', /component "python-"/],
    ['py..thon', /component "py..thon"/],
    ['py___thon', /component "py___thon"/],
    ['py._thon', /component "py._thon"/],
    ['pyth@n', /digest "n"/],
    ['hexa/pyth!on', /component "pyth!on"/],
    ['hexa/pythön', /component "pythön"/],
    ['registry.example.org:0/x', /port "0"/],
    ['registry.example.org:65536/x', /port "65536"/],
    ['registry.example.org:http/x', /registry "registry.example.org:http" is not a host name/],
    ['-registry.example.org/x', /host "-registry.example.org"/],
    ['registry..example.org/x', /host "registry..example.org"/],
    ['https://registry.example.org/x', /registry "https:" is not a host name|empty path component/],
    [`${'a'.repeat(250)}:12345`, /256 characters; at most 255/],
  ])('refuses %j and says why', (text, reason) => {
    const parsed = parseImageReference(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('when an image is compared with the allow-list', () => {
  it('makes Docker Hub and its library namespace explicit', () => {
    const canonical = (text: string) => {
      const parsed = parseImageReference(text);
      if (!parsed.ok) throw new Error(parsed.reason);
      return canonicalImageName(parsed.reference);
    };
    expect(canonical('python:3.12')).toBe('docker.io/library/python:3.12');
    expect(canonical('hexa/python')).toBe('docker.io/hexa/python');
    expect(canonical('index.docker.io/hexa/python')).toBe('docker.io/hexa/python');
    expect(canonical(`registry.example.org:5000/hexa/python@${digest}`)).toBe(`registry.example.org:5000/hexa/python@${digest}`);
  });

  it('matches patterns with * against the canonical name', () => {
    const hexa = imagePatternMatcher('registry.example.org/hexa/*');
    expect(hexa('registry.example.org/hexa/python:3.12')).toBe(true);
    expect(hexa('registry.example.org/hexa/team/python')).toBe(true);
    expect(hexa('registry.example.org/hexagon/python')).toBe(false);
    expect(hexa('registry.example.org.evil.org/hexa/python')).toBe(false);
    expect(hexa('docker.io/hexa/python')).toBe(false);
    expect(imagePatternMatcher('python:*')('docker.io/library/python:3.12')).toBe(true);
    expect(imagePatternMatcher('hexa/*')('docker.io/hexa/python')).toBe(true);
    expect(imagePatternMatcher('registry.example.org/hexa/python')('registry.example.org/hexa/python:1')).toBe(false);
    expect(imagePatternMatcher('*')('anything.example/at/all:1')).toBe(true);
    // A dot in a pattern is a dot, not "any character".
    expect(imagePatternMatcher('registry.example.org/*')('registryxexample.org/x')).toBe(false);
  });

  it('lets any valid image through without an allow-list, and only matching ones with one, naming the patterns', () => {
    const open = createImagePolicy({ defaultImage: 'hexa/base:1', allowList: [] });
    expect(open.problem('python:3.12')).toBeUndefined();
    expect(open.problem('Python')).toMatch(/is not an image reference .*must be lower-case/);

    const closed = createImagePolicy({ defaultImage: 'hexa/base:1', allowList: ['registry.example.org/hexa/*', 'python:3.*'] });
    expect(closed.problem('registry.example.org/hexa/python:3.12')).toBeUndefined();
    expect(closed.problem('docker.io/library/python:3.12')).toBeUndefined();
    expect(closed.problem('ruby:3')).toBe('"ruby:3" (docker.io/library/ruby:3) is not allowed on this platform; allowed images match: registry.example.org/hexa/*, python:3.*');
    expect(closed.effective(null)).toBe('hexa/base:1');
    expect(closed.effective('registry.example.org/hexa/r:4')).toBe('registry.example.org/hexa/r:4');
  });
});
