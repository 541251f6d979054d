import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ConfigField } from './config.js';

/**
 * Secrets at rest (workspace database passwords, connection values): AES-256-GCM
 * under a keyring. The first key of the ring encrypts; every key decrypts what
 * it encrypted, found by the key id stored in the envelope. Rotating is adding
 * a key in front (`new:<key>,old:<key>`): new writes use it, old values still
 * decrypt, and a service re-encrypts a value under the current key whenever
 * it writes it again (`needsReencryption`). docs/decisions/0027.
 */

/** AES-256 wants exactly 32 bytes. */
const keyBytes = 32;
/** GCM's recommended nonce length: 96 bits, random for each encryption. */
const nonceBytes = 12;
/** `v2:<key id>:<nonce>:<tag>:<ciphertext>`; `v1` (no key id) came before key rotation and is still read. */
const envelopeVersion = 'v2';
const legacyVersion = 'v1';
/** The id a key written alone (no `id:`) gets: what every key was before rotation existed. */
export const defaultKeyId = 'k1';
const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

export interface Keyring {
  /** The id of the key that encrypts (the first of the setting). */
  readonly currentId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

function parseKey(raw: string): Buffer {
  const text = raw.trim();
  const key = Buffer.from(text, 'base64');
  // Buffer.from ignores what is not base64: a round trip shows whether all of it was.
  if (key.length !== keyBytes || key.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new Error(`must be ${keyBytes} bytes in base64 (openssl rand -base64 ${keyBytes})`);
  }
  return key;
}

/**
 * Reads a keyring setting: one key in base64 (id `k1`), or `id:key` pairs
 * separated by commas, the first encrypting. Throws (naming no key) when a
 * key is not 32 bytes of base64, an id is malformed or used twice.
 *
 * @example
 * parseKeyring('k2:<32 bytes base64>,k1:<32 bytes base64>').currentId // 'k2'
 */
export function parseKeyring(raw: string): Keyring {
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new Error('needs at least one key');
  const keys = new Map<string, Buffer>();
  for (const item of items) {
    const separator = item.indexOf(':');
    const id = separator < 0 ? defaultKeyId : item.slice(0, separator);
    if (!keyIdPattern.test(id)) throw new Error('a key id is letters, digits, _ or -, at most 32 (id:key)');
    if (keys.has(id)) throw new Error(`the key id ${id} is used twice`);
    keys.set(id, parseKey(separator < 0 ? item : item.slice(separator + 1)));
  }
  return { currentId: [...keys.keys()][0]!, keys };
}

/** A keyring setting (secret): see `parseKeyring`. */
export function keyringConfig(description: string): ConfigField<Keyring> {
  return { description, secret: true, parse: parseKeyring };
}

/**
 * Encrypts with the ring's current key. `context` (what the secret belongs
 * to) is authenticated with it, so an envelope copied to another row does
 * not decrypt.
 *
 * @example
 * const stored = encryptSecret(ring, password, `${workspaceId}/owner`); // 'v2:k1:<nonce>:<tag>:<ciphertext>'
 */
export function encryptSecret(ring: Keyring, plaintext: string, context: string): string {
  const key = ring.keys.get(ring.currentId)!;
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [envelopeVersion, ring.currentId, nonce.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
}

function open(key: Buffer, nonce: string, tag: string, ciphertext: string, context: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
}

const doesNotDecrypt = () => new Error('A secret does not decrypt: its key is not in the keyring, or the stored value was altered');

/**
 * Decrypts an envelope of `encryptSecret` with the key it names (a `v1`
 * envelope, which names none, with whichever key of the ring opens it);
 * throws, without any part of the secret, when no key does.
 *
 * @example
 * const password = decryptSecret(ring, row.owner_password, `${row.workspace_id}/owner`);
 */
export function decryptSecret(ring: Keyring, envelope: string, context: string): string {
  const parts = envelope.split(':');
  if (parts[0] === envelopeVersion && parts.length === 5) {
    const [, id, nonce, tag, ciphertext] = parts as [string, string, string, string, string];
    const key = ring.keys.get(id);
    if (!key) throw doesNotDecrypt();
    try {
      return open(key, nonce, tag, ciphertext, context);
    } catch {
      // Node's message says nothing secret, but one fixed message says it for certain.
      throw doesNotDecrypt();
    }
  }
  if (parts[0] === legacyVersion && parts.length === 4) {
    const [, nonce, tag, ciphertext] = parts as [string, string, string, string];
    // GCM's tag makes trying each key safe: a wrong key fails, it never yields garbage.
    for (const key of ring.keys.values()) {
      try {
        return open(key, nonce, tag, ciphertext, context);
      } catch {
        // the next key
      }
    }
    throw doesNotDecrypt();
  }
  throw new Error('Unreadable secret envelope');
}

/** True when an envelope was not made with the ring's current key: write it again, encrypted anew. */
export function needsReencryption(ring: Keyring, envelope: string): boolean {
  const parts = envelope.split(':');
  return parts[0] !== envelopeVersion || parts[1] !== ring.currentId;
}

/** A fresh random key in base64 (what `npm start` generates once). */
export function generateEncryptionKey(): string {
  return randomBytes(keyBytes).toString('base64');
}
