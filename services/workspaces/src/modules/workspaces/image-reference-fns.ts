/**
 * Docker image references, as the distribution project's grammar defines them
 * (github.com/distribution/reference), made stricter: the whole name is
 * lower-case, a digest is sha256 only.
 *
 *   reference := [domain "/"] path [":" tag] ["@" digest]
 *   domain    := host [":" port]      host: a DNS name, `localhost` or `[IPv6]`
 *   path      := component ("/" component)*
 *   component := [a-z0-9]+ (("." | "_" | "__" | "-"+) [a-z0-9]+)*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := "sha256:" 64 lower-case hex digits
 */

/** Docker refuses longer names; the whole reference is held to the same bound. */
export const maxImageReferenceLength = 255;

const componentPattern = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const dnsLabel = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const hostPattern = new RegExp(`^(?:${dnsLabel}(?:\\.${dnsLabel})*|\\[[0-9a-f:.]+\\])$`);
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha256:[0-9a-f]{64}$/;

export interface ImageReference {
  /** The registry as written (`registry.example.org:5000`), or undefined for Docker Hub. */
  domain: string | undefined;
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

export type ParsedImageReference = { ok: true; reference: ImageReference } | { ok: false; reason: string };

/** Where the first component names a registry: Docker's own rule (a dot, a port, or localhost). */
function namesRegistry(first: string): boolean {
  return first.includes('.') || first.includes(':') || first.startsWith('[') || first === 'localhost';
}

function parseDomain(domain: string): string | undefined {
  const match = /^(\[[^\]]*\]|[^:]+)(?::(\d+))?$/.exec(domain);
  if (!match) return `the registry "${domain}" is not a host name with an optional port`;
  const [, host, port] = match;
  if (host !== host!.toLowerCase()) return `the registry "${domain}" must be lower-case`;
  if (!hostPattern.test(host!)) return `the registry host "${host}" is not a valid host name`;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535 || port.startsWith('0'))) return `the registry port "${port}" is not a port number (1–65535)`;
  return undefined;
}

/**
 * Parses an image reference, or says precisely what is wrong with it.
 *
 * @example
 * parseImageReference('registry.example.org:5000/hexa/python:3.12')
 * // { ok: true, reference: { domain: 'registry.example.org:5000', path: 'hexa/python', tag: '3.12', digest: undefined } }
 * parseImageReference('Hexa/Python') // { ok: false, reason: 'the repository "Hexa/Python" must be lower-case' }
 */
export function parseImageReference(text: string): ParsedImageReference {
  const fail = (reason: string): ParsedImageReference => ({ ok: false, reason });
  if (text.length === 0) return fail('the reference is empty');
  if (text.length > maxImageReferenceLength) return fail(`the reference has ${text.length} characters; at most ${maxImageReferenceLength}`);
  if (/\s/.test(text)) return fail('the reference contains white space');

  const at = text.indexOf('@');
  const nameAndTag = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? undefined : text.slice(at + 1);
  if (digest !== undefined && !digestPattern.test(digest)) return fail(`the digest "${digest}" must be "sha256:" followed by 64 lower-case hexadecimal digits`);

  const slash = nameAndTag.indexOf('/');
  const first = slash === -1 ? nameAndTag : nameAndTag.slice(0, slash);
  const hasDomain = slash !== -1 && namesRegistry(first);
  const domain = hasDomain ? first : undefined;
  const rest = hasDomain ? nameAndTag.slice(slash + 1) : nameAndTag;
  if (domain !== undefined) {
    const problem = parseDomain(domain);
    if (problem) return fail(problem);
  }

  // A colon after the last slash starts the tag (one before it would be a registry's port).
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  const path = colon === -1 ? rest : rest.slice(0, colon);
  const tag = colon === -1 ? undefined : rest.slice(colon + 1);
  if (path.length === 0) return fail('the reference names no repository');
  if (path !== path.toLowerCase()) return fail(`the repository "${path}" must be lower-case`);
  for (const component of path.split('/')) {
    if (!componentPattern.test(component)) {
      return fail(
        component.length === 0
          ? `the repository "${path}" has an empty path component`
          : `the repository component "${component}" must be lower-case letters and digits, separated by ".", "_", "__" or dashes`,
      );
    }
  }
  if (tag !== undefined && !tagPattern.test(tag)) return fail(`the tag "${tag}" must be 1–128 letters, digits, "_", "." or "-", not starting with "." or "-"`);
  return { ok: true, reference: { domain, path, tag, digest } };
}

/**
 * The reference as Docker resolves it: Docker Hub's domain and its `library/`
 * namespace made explicit, so `python:3.12` and `docker.io/library/python:3.12`
 * compare equal (the allow-list is about where an image comes from).
 *
 * @example
 * canonicalImageName({ domain: undefined, path: 'python', tag: '3.12', digest: undefined }) // 'docker.io/library/python:3.12'
 */
export function canonicalImageName(reference: ImageReference): string {
  const domain = reference.domain === undefined || reference.domain === 'index.docker.io' ? 'docker.io' : reference.domain;
  const path = domain === 'docker.io' && !reference.path.includes('/') ? `library/${reference.path}` : reference.path;
  return `${domain}/${path}${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}

/**
 * A pattern of the image allow-list: a reference where `*` stands for any
 * run of characters (slashes, tags and digests included), compared with the
 * canonical form of the image. A pattern without a registry means Docker Hub,
 * as for an image.
 *
 * @example
 * imagePatternMatcher('registry.example.org/hexa/*')('registry.example.org/hexa/python:3.12') // true
 */
export function imagePatternMatcher(pattern: string): (canonical: string) => boolean {
  const slash = pattern.indexOf('/');
  const first = slash === -1 ? pattern : pattern.slice(0, slash);
  let full: string;
  if (slash !== -1 && namesRegistry(first)) full = pattern;
  else if (slash === -1 && pattern !== '*') full = `docker.io/library/${pattern}`;
  else full = pattern === '*' ? '*' : `docker.io/${pattern}`;
  const source = full.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const expression = new RegExp(`^${source}$`);
  return (canonical) => expression.test(canonical);
}

/** Patterns of the allow-list setting: comma-separated, blanks ignored. */
export function parseAllowList(setting: string): string[] {
  return setting
    .split(',')
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern.length > 0);
}

export interface ImagePolicy {
  /** The image runs start from: the workspace's own, or the platform's default. */
  effective(image: string | null): string;
  /** Why a workspace may not name this image (not a reference, or not allowed), or undefined when it may. */
  problem(image: string): string | undefined;
}

/**
 * The platform's rules for workspace images: a valid reference and, when the
 * allow-list is set, one that a pattern matches. The default image is the
 * operator's own choice and always allowed.
 *
 * @example
 * const policy = createImagePolicy({ defaultImage: 'hexa/base:1', allowList: ['registry.example.org/hexa/*'] });
 * policy.problem('python:3.12') // 'python:3.12 is not allowed on this platform; allowed: registry.example.org/hexa/*'
 */
export function createImagePolicy(options: { defaultImage: string; allowList: readonly string[] }): ImagePolicy {
  const matchers = options.allowList.map((pattern) => imagePatternMatcher(pattern));
  return {
    effective: (image) => image ?? options.defaultImage,
    problem(image) {
      const parsed = parseImageReference(image);
      if (!parsed.ok) return `"${image}" is not an image reference ([registry[:port]/]name[:tag][@sha256:<64 hex digits>]): ${parsed.reason}`;
      if (matchers.length === 0) return undefined;
      const canonical = canonicalImageName(parsed.reference);
      if (matchers.some((matches) => matches(canonical))) return undefined;
      return `"${image}" (${canonical}) is not allowed on this platform; allowed images match: ${options.allowList.join(', ')}`;
    },
  };
}
