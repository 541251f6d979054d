/**
 * Image references the workspaces service is tested against, by the
 * validator's unit tests and through the gateway: valid ones with what they
 * parse to, invalid ones with (a pattern of) the reason given.
 */

export interface ParsedReference {
  domain: string | undefined;
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

const digest = `sha256:${'a1'.repeat(32)}`;

/** Valid references and what they parse to. */
export const validImageReferences: [string, ParsedReference][] = [
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
];

/**
 * Invalid references and the reason given. The first is empty (which, in a
 * workspace's settings, means "the platform default"); the last is longer
 * than the 255 characters the contract allows.
 */
export const invalidImageReferences: [string, RegExp][] = [
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
];
