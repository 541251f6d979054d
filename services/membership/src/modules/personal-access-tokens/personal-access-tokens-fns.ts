import { randomBytes } from 'node:crypto';

/** Says what the string is (secret scanners match it) and lets the gateway tell it from a JWT at a glance. */
const prefix = 'hexa_pat_';

/** A new secret: `hexa_pat_` and 256 random bits in base64url (43 characters). */
export function newPersonalAccessToken(): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}
