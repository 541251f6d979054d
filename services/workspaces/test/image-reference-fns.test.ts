import { invalidImageReferences, validImageReferences } from '@hexa/testing';
import { canonicalImageName, createImagePolicy, imagePatternMatcher, parseImageReference } from '../src/modules/workspaces/image-reference-fns.js';

const digest = `sha256:${'a1'.repeat(32)}`;

describe('when an image reference is valid', () => {
  it.each(validImageReferences)('parses %s', (text, reference) => {
    expect(parseImageReference(text)).toEqual({ ok: true, reference });
  });

  it('accepts up to 255 characters', () => {
    const longest = `${'a'.repeat(120)}/${'b'.repeat(129)}:1234`;
    expect(longest).toHaveLength(255);
    expect(parseImageReference(longest).ok).toBe(true);
  });
});

describe('when an image reference is not valid', () => {
  it.each(invalidImageReferences)('refuses %j and says why', (text, reason) => {
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
