import { createCipheriv, randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, needsReencryption, parseKeyring } from '../src/secrets.js';

const keyText = () => randomBytes(32).toString('base64');
const ring = parseKeyring(keyText());
const password = 'Zx9-super_secret-password-of-43-characters';

describe('when a secret is stored', () => {
  it('is AES-256-GCM ciphertext naming its key, that says nothing of the secret, different each time, and decrypts back', () => {
    const first = encryptSecret(ring, password, 'ws-1/owner');
    const second = encryptSecret(ring, password, 'ws-1/owner');
    expect(first).toMatch(/^v2:k1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(first).not.toContain(password);
    expect(first).not.toBe(second);
    expect(decryptSecret(ring, first, 'ws-1/owner')).toBe(password);
  });

  it('does not decrypt with another key, for another context, or when a byte changed, and the error shows no secret', () => {
    const stored = encryptSecret(ring, password, 'ws-1/owner');
    const attempts = [
      () => decryptSecret(parseKeyring(keyText()), stored, 'ws-1/owner'),
      () => decryptSecret(ring, stored, 'ws-1/reader'),
      () => decryptSecret(ring, stored, 'ws-2/owner'),
      () => decryptSecret(ring, stored.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')), 'ws-1/owner'),
      () => decryptSecret(ring, 'v3:garbage', 'ws-1/owner'),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(/does not decrypt|Unreadable/);
      try {
        attempt();
      } catch (error) {
        expect(String((error as Error).message)).not.toContain(password);
      }
    }
  });
});

describe('when the key is rotated', () => {
  const oldKey = keyText();
  const newKey = keyText();
  const before = parseKeyring(oldKey);
  const after = parseKeyring(`k2:${newKey},k1:${oldKey}`);

  it('the new key encrypts, values sealed by the old key still decrypt, and say they need re-encrypting', () => {
    const old = encryptSecret(before, password, 'c');
    expect(after.currentId).toBe('k2');
    expect(decryptSecret(after, old, 'c')).toBe(password);
    expect(needsReencryption(after, old)).toBe(true);
    const fresh = encryptSecret(after, password, 'c');
    expect(fresh.startsWith('v2:k2:')).toBe(true);
    expect(needsReencryption(after, fresh)).toBe(false);
    // Once the old key leaves the ring, only re-encrypted values still open.
    const withoutOld = parseKeyring(`k2:${newKey}`);
    expect(decryptSecret(withoutOld, fresh, 'c')).toBe(password);
    expect(() => decryptSecret(withoutOld, old, 'c')).toThrow(/does not decrypt/);
  });

  it('still reads the envelopes written before key ids existed (v1)', () => {
    const key = Buffer.from(oldKey, 'base64');
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from('ws/owner'));
    const body = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]);
    const legacy = ['v1', nonce.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
    expect(decryptSecret(after, legacy, 'ws/owner')).toBe(password);
    expect(needsReencryption(after, legacy)).toBe(true);
  });

  it('refuses a malformed ring without showing a key', () => {
    for (const raw of ['', 'short', `k1:${oldKey},k1:${newKey}`, `bad id!:${oldKey}`, `${oldKey}x`]) {
      try {
        parseKeyring(raw);
        throw new Error(`accepted ${raw}`);
      } catch (error) {
        expect((error as Error).message).not.toContain(oldKey);
        expect((error as Error).message).not.toMatch(/^accepted/);
      }
    }
  });
});
