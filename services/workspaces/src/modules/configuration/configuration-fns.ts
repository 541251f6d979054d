import type { FieldError } from '@hexa/kit';

/** Limits of one workspace's configuration: enough for flags, parameters and URLs, not a data store. */
export const maxConfigurationKeys = 200;
export const maxConfigurationBytes = 64 * 1024;
/** Deeper values are refused before they are measured (serialising them would exhaust the stack). */
export const maxValueDepth = 20;

export const configurationKeyPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Parts of a name that mark a secret wherever they appear (`DBPASSWORD`, `github_token`). */
const secretFragments = ['password', 'passwd', 'secret', 'token'];
/** Words that mark a secret only as a whole word (`API_KEY`, `ApiKey`; not `monkey`, `keyboard`). */
const secretWords = new Set(['key', 'keys', 'apikey', 'apikeys', 'privatekey', 'accesskey', 'authkey', 'sshkey', 'credential', 'credentials', 'pwd']);

/** The words of an identifier: split at underscores, digits and case changes (`APIKey2` → api, key). */
export function identifierWords(key: string): string[] {
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[_\d\s]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}

/**
 * True when a key names something that looks like a secret; secrets belong
 * in connections, where they are encrypted and never shown to Viewers.
 *
 * @example
 * looksLikeSecret('db_password') // true
 * looksLikeSecret('ApiKey') // true
 * looksLikeSecret('monkey') // false
 */
export function looksLikeSecret(key: string): boolean {
  const lower = key.toLowerCase();
  return secretFragments.some((fragment) => lower.includes(fragment)) || identifierWords(key).some((word) => secretWords.has(word));
}

export function secretKeyMessage(key: string): string {
  return `"${key}" looks like the name of a secret; keep secrets in the workspace's connections, not in its configuration`;
}

/** How deeply a JSON value nests (a scalar is 0), walked without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = maxValueDepth): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const here = depth + 1;
    deepest = Math.max(deepest, here);
    if (here > limit) return here;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, here]);
  }
  return deepest;
}

/**
 * Every problem of a whole configuration: secret-looking keys, values nested
 * too deeply or null, too many keys, too many bytes. Field names follow the
 * body of the request that brought them (`body/properties/<key>` or `body/value`).
 */
export function configurationProblems(properties: Record<string, unknown>, fieldOf: (key: string) => string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(properties)) {
    if (!configurationKeyPattern.test(key)) errors.push({ field: fieldOf(key), message: `"${key}" is not an identifier (${configurationKeyPattern.source})` });
    else if (looksLikeSecret(key)) errors.push({ field: fieldOf(key), message: secretKeyMessage(key) });
    if (value === null || value === undefined) errors.push({ field: fieldOf(key), message: 'a value cannot be null; delete the property instead' });
    else if (jsonDepth(value) > maxValueDepth) errors.push({ field: fieldOf(key), message: `the value nests deeper than ${maxValueDepth} levels` });
  }
  if (errors.length > 0) return errors;
  const count = Object.keys(properties).length;
  if (count > maxConfigurationKeys) errors.push({ field: 'body', message: `the configuration would hold ${count} properties; at most ${maxConfigurationKeys}` });
  const bytes = Buffer.byteLength(JSON.stringify(properties), 'utf8');
  if (bytes > maxConfigurationBytes) errors.push({ field: 'body', message: `the configuration would take ${bytes} bytes as JSON; at most ${maxConfigurationBytes}` });
  return errors;
}

/** The configuration's ETag for a version: strong, opaque to clients. */
export function configurationETag(version: string | number): string {
  return `"configuration-${version}"`;
}

/**
 * Whether an `If-Match` header matches the current ETag (RFC 9110 §13.1.1:
 * `*` matches any current representation; a list matches when one of its
 * strong tags equals the current one; weak tags never match).
 */
export function ifMatchAccepts(header: string, current: string): boolean {
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  return (trimmed.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => !tag.startsWith('W/') && tag === current);
}
