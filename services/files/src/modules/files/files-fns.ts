import { httpError } from '@hexa/kit';

/** Limits of a path, as the contract's FilePath says (and as common file systems allow). */
export const maxPathLength = 1024;
export const maxNameBytes = 255;
/** Temporary files of uploads in progress start with this: never listed, never addressable. */
export const uploadTempPrefix = '.hexa-upload-';

/** Characters that look like a dot or a slash, or become one under Unicode compatibility normalisation (NFKC). */
const lookAlikes = /[\u2024\u2025\u2215\u2216\u2044\u29f5\u29f8\u29f9\ufe52\ufe68\uff0e\uff0f\uff3c]/u;
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/u;

function invalid(raw: string, why: string): never {
  throw httpError('invalid_path', `The path ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)} ${why}.`);
}

/**
 * A path of the API as the segments of a path inside the workspace's folder,
 * or `invalid_path` saying precisely what is wrong. Nothing that could climb
 * out passes: `..`, `.`, absolute paths, backslashes, NUL and control
 * characters, percent-encoded sequences (a second decoding somewhere must
 * find nothing), Unicode look-alikes of dots and slashes, and names over the
 * limits. Names are kept in Unicode NFC, so one name has one spelling.
 *
 * @example
 * pathSegments('reports/2026/cases.csv') // ['reports', '2026', 'cases.csv']
 * pathSegments('../etc/passwd') // throws invalid_path: climbs out of the folder (..)
 */
export function pathSegments(raw: string): string[] {
  if (raw.length === 0) invalid(raw, 'is empty');
  if (raw.length > maxPathLength) invalid(raw, `is longer than ${maxPathLength} characters`);
  if (controlCharacters.test(raw)) invalid(raw, 'contains a NUL or control character');
  if (raw.includes('\\')) invalid(raw, 'contains a backslash; folders are separated by /');
  if (raw.startsWith('/')) invalid(raw, "is absolute; paths are relative to the workspace's folder");
  if (/%[0-9A-Fa-f]{2}/.test(raw)) invalid(raw, 'contains a percent-encoded sequence (such as %2e or %2f); send the characters themselves');
  if (lookAlikes.test(raw)) invalid(raw, 'contains a Unicode look-alike of a dot or a slash');
  const segments = raw.normalize('NFC').split('/');
  for (const segment of segments) {
    if (segment === '') invalid(raw, 'has an empty segment (// or a trailing /)');
    if (segment === '..') invalid(raw, 'climbs out of its folder (..)');
    if (segment === '.') invalid(raw, 'has a . segment');
    const compatible = segment.normalize('NFKC');
    if (compatible === '.' || compatible === '..' || compatible.includes('/') || compatible.includes('\\')) invalid(raw, 'contains a Unicode look-alike of a dot or a slash');
    if (Buffer.byteLength(segment, 'utf8') > maxNameBytes) invalid(raw, `has a name longer than ${maxNameBytes} bytes`);
    if (segment.startsWith(uploadTempPrefix)) invalid(raw, `uses a reserved name (${uploadTempPrefix}…)`);
  }
  return segments;
}

/** The normalised form of a path (NFC, as stored). */
export function normalisePath(raw: string): string {
  return pathSegments(raw).join('/');
}

const contentTypes: Record<string, string> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  json: 'application/json',
  geojson: 'application/geo+json',
  xml: 'application/xml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  html: 'text/html',
  py: 'text/x-python',
  r: 'text/x-r',
  sql: 'application/sql',
  ipynb: 'application/x-ipynb+json',
  parquet: 'application/vnd.apache.parquet',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** The media type of a file by its name's extension; `application/octet-stream` when unknown. */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return contentTypes[extension] ?? 'application/octet-stream';
}

/**
 * `Content-Disposition: attachment` naming the file (RFC 6266): an ASCII
 * `filename` fallback and the exact name in `filename*` (RFC 8187, UTF-8).
 *
 * @example
 * contentDisposition('cas à Bobo.csv') // `attachment; filename="cas _ Bobo.csv"; filename*=UTF-8''cas%20%C3%A0%20Bobo.csv`
 */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

export type ByteRange = { start: number; end: number };

/**
 * The one range a `Range` header asks of a file of `size` bytes: undefined to
 * send the whole file (no header, a header that is not one `bytes=` range:
 * RFC 9110 lets a server ignore it), `unsatisfiable` when it lies outside.
 *
 * @example
 * parseRange('bytes=0-99', 1000) // { start: 0, end: 99 }
 * parseRange('bytes=-100', 1000) // { start: 900, end: 999 }
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return 'unsatisfiable';
  return { start, end };
}
