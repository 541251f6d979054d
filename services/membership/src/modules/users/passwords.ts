import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, 2 passes): OWASP's recommended floor. */
export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// Verified when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
const decoyHash = await hash('decoy password that no one has');

export async function verifyPassword(passwordHash: string | undefined, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash ?? decoyHash, password) && passwordHash !== undefined;
  } catch {
    return false;
  }
}
