import { decryptSecret, encryptSecret } from './secrets-fns.js';

/** Which password an envelope holds: authenticated with it, so envelopes cannot be swapped between rows or logins. */
export type SecretContext = { workspaceId: string; login: 'owner' | 'reader' } | { rotationId: string };

function contextOf(context: SecretContext): string {
  return 'rotationId' in context ? `rotation/${context.rotationId}` : `${context.workspaceId}/${context.login}`;
}

/**
 * Seals and opens the passwords this service keeps, with the configured key.
 *
 * @example
 * const secrets = createSecrets(config.HEXA_DATABASE_ENCRYPTION_KEY);
 * const stored = secrets.seal(password, { workspaceId, login: 'owner' });
 */
export function createSecrets(key: Buffer) {
  return {
    seal: (plaintext: string, context: SecretContext): string => encryptSecret(key, plaintext, contextOf(context)),
    open: (envelope: string, context: SecretContext): string => decryptSecret(key, envelope, contextOf(context)),
  };
}

export type Secrets = ReturnType<typeof createSecrets>;
