import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret } from '../src/modules/secrets/secrets-fns.js';

const key = randomBytes(32);
const password = 'Zx9-super_secret-password-of-43-characters';

describe('when a password is stored', () => {
  it('is AES-256-GCM ciphertext that says nothing of the password, different each time, and decrypts back', () => {
    const first = encryptSecret(key, password, 'ws-1/owner');
    const second = encryptSecret(key, password, 'ws-1/owner');
    expect(first).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(first).not.toContain(password);
    expect(first).not.toBe(second);
    expect(decryptSecret(key, first, 'ws-1/owner')).toBe(password);
  });

  it('does not decrypt with another key, for another login or workspace, or when a byte changed, and the error shows no secret', () => {
    const stored = encryptSecret(key, password, 'ws-1/owner');
    const attempts = [
      () => decryptSecret(randomBytes(32), stored, 'ws-1/owner'),
      () => decryptSecret(key, stored, 'ws-1/reader'),
      () => decryptSecret(key, stored, 'ws-2/owner'),
      () => decryptSecret(key, stored.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')), 'ws-1/owner'),
      () => decryptSecret(key, 'v2:garbage', 'ws-1/owner'),
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
