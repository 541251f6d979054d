import type { LocationQuery } from 'vue-router';

/**
 * Where to go after signing in: only a path of this console. `next=//evil.example`,
 * `next=/\evil.example` or `next=https://…` would send a person elsewhere.
 */
export function safeNext(query: LocationQuery): string {
  const next = query.next;
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}
