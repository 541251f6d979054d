import { decryptSecret, encryptSecret, type Keyring } from '@hexa/kit';

/** Which password an envelope holds: authenticated with it, so envelopes cannot be swapped between rows or logins. */
export type SecretContext = { workspaceId: string; login: 'owner' | 'reader' } | { rotationId: string };

function contextOf(context: SecretContext): string {
  return 'rotationId' in context ? `rotation/${context.rotationId}` : `${context.workspaceId}/${context.login}`;
}

/**
 * Seals and opens the passwords this service keeps, with the configured
 * keyring (the kit's AES-256-GCM envelopes: the current key seals, every key
 * of the ring opens what it sealed).
 *
 * @example
 * const secrets = createSecrets(config.HEXA_DATABASE_ENCRYPTION_KEY);
 * const stored = secrets.seal(password, { workspaceId, login: 'owner' });
 */
export function createSecrets(ring: Keyring) {
  return {
    seal: (plaintext: string, context: SecretContext): string => encryptSecret(ring, plaintext, contextOf(context)),
    open: (envelope: string, context: SecretContext): string => decryptSecret(ring, envelope, contextOf(context)),
  };
}

export type Secrets = ReturnType<typeof createSecrets>;
