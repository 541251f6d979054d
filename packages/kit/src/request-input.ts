/**
 * What the kit checks of a request beyond the grammar of its parts, so that
 * what is stored is what the client sent and nothing overflows on the way.
 * A JSON body must be UTF-8 (RFC 8259; a decoder that replaces bad bytes with
 * U+FFFD would store something the client never sent), nested no deeper than
 * any document of the contract needs (a deep enough nesting overflows the
 * stack of whatever walks it afterwards: the validator, the serializer,
 * PostgreSQL's jsonb parser), and free of lone UTF-16 surrogates (`"\ud800"`
 * is valid JSON but no text: PostgreSQL and the client libraries replace it).
 * A query string must be well-formed percent-encoded UTF-8, and a body is
 * sent uncompressed.
 */

/** Arrays and objects nest at most this deep in a request body; a configuration value is the deepest document there is. */
export const maxJsonBodyDepth = 64;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text, or undefined when its bytes are not UTF-8. A byte-order mark is dropped. */
export function decodeUtf8(body: Buffer): string | undefined {
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

/** True when arrays and objects in `text` nest deeper than `maxDepth` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index += 1; // a backslash escapes the next character (a quote included)
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return false;
}

/** A lone surrogate: with the `u` flag, a well-formed pair is one code point and does not match. */
const loneSurrogate = /\p{Cs}/u;

/** True when a string of `value` (a key or a value, at any depth) holds a lone UTF-16 surrogate. */
export function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return loneSurrogate.test(value);
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([key, item]) => loneSurrogate.test(key) || holdsLoneSurrogate(item));
  return false;
}

/**
 * True when every name and value of a query string is well-formed
 * percent-encoded UTF-8: decodeURIComponent refuses a `%` without two hex
 * digits, bytes that are not UTF-8, overlong forms and encoded surrogates.
 */
export function isWellFormedQuery(query: string): boolean {
  try {
    for (const part of query.split('&')) decodeURIComponent(part.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
  }
}

/** True when a request's `Content-Encoding` says its body is sent as is (absent, or only `identity`). */
export function isIdentityEncoding(header: string | undefined): boolean {
  return header === undefined || header.split(',').every((coding) => ['', 'identity'].includes(coding.trim().toLowerCase()));
}
