import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, 2 passes): OWASP's recommended floor. */
export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// Verified when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
const decoyHash = await hash('decoy password that no one has');

/**
 * Checks a password against a stored hash (or against a decoy when there is
 * none): the costly step that sign-in budgets ration.
 */
export type PasswordVerifier = (passwordHash: string | undefined, password: string) => Promise<boolean>;

export const verifyPassword: PasswordVerifier = async (passwordHash, password) => {
  try {
    return (await verify(passwordHash ?? decoyHash, password)) && passwordHash !== undefined;
  } catch {
    return false;
  }
};
