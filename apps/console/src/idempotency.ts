/**
 * A random Idempotency-Key. Not `crypto.randomUUID()`: that exists only in
 * secure contexts, and the console may be opened over plain http on a LAN
 * address; `getRandomValues` works everywhere.
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
