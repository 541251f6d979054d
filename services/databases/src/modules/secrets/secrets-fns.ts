import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The envelope's format; a future key rotation adds a version rather than changing this one. */
const envelopeVersion = 'v1';
/** GCM's recommended nonce length: 96 bits, random for each encryption. */
const nonceBytes = 12;

/**
 * Encrypts a secret at rest with AES-256-GCM. `context` (the workspace and the
 * login it belongs to) is authenticated with it, so an envelope copied to
 * another row or login does not decrypt.
 *
 * @example
 * const stored = encryptSecret(key, password, `${workspaceId}/owner`); // 'v1:<nonce>:<tag>:<ciphertext>'
 */
export function encryptSecret(key: Buffer, plaintext: string, context: string): string {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [envelopeVersion, nonce.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
}

/**
 * Decrypts an envelope of `encryptSecret`; throws (without any part of the
 * secret) when the key, the context or a byte of it is wrong.
 *
 * @example
 * const password = decryptSecret(key, row.owner_password, `${row.workspace_id}/owner`);
 */
export function decryptSecret(key: Buffer, envelope: string, context: string): string {
  const [version, nonce, tag, ciphertext, ...rest] = envelope.split(':');
  if (version !== envelopeVersion || nonce === undefined || tag === undefined || ciphertext === undefined || rest.length > 0) {
    throw new Error('Unreadable secret envelope');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    // Node's message says nothing secret, but one fixed message says it for certain.
    throw new Error('A secret does not decrypt: wrong HEXA_DATABASE_ENCRYPTION_KEY, or the stored value was altered');
  }
}
