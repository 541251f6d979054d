import type { LocationQuery } from 'vue-router';

/**
 * Where to go after signing in: only a path of this console. `next=//evil.example`,
 * `next=/\evil.example` or `next=https://…` would send a person elsewhere.
 */
export function safeNext(query: LocationQuery): string {
  const next = query.next;
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

/**
 * A link that leaves the console: with a scheme, or protocol-relative — which
 * for a browser is any two slashes or backslashes (`//`, `/\`, `\\`).
 */
export function isExternalLink(href: string): boolean {
  return /^(?:[A-Za-z][A-Za-z0-9+.-]*:|[/\\]{2})/.test(href.trim());
}
