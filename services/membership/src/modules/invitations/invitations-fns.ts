import { createHmac, createPrivateKey, hkdfSync } from 'node:crypto';
import type { Schemas, WorkspaceRole } from '@hexa/contract';
import { httpError } from '@hexa/kit';

type InvitationStatus = Schemas['InvitationStatus'];

/**
 * The key invitation links are made with, derived (HKDF, under its own label:
 * it signs nothing) from the private key only membership holds. Rotating that
 * key changes the links of sends not yet made; links already sent keep
 * working, since a link is checked against the hash stored when it was sent.
 */
export function invitationTokenKey(membershipPrivateKeyPem: string): Buffer {
  const secret = createPrivateKey(membershipPrivateKeyPem).export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'hexa invitation links', 32));
}

/**
 * The secret of one send's link: 256 bits, URL-safe (43 characters), that
 * no one without the key can compute. It is the same for every attempt of a
 * send, so that a mail the SMTP server took although the attempt failed (its
 * answer lost, the worker killed before recording it) carries the same
 * working link as the retry's; the next send (a resend) gets another, which
 * replaces it.
 */
export function invitationSendToken(key: Buffer, invitationId: string, send: number): string {
  return createHmac('sha256', key).update(`${invitationId}/${send}`).digest('base64url');
}

/**
 * The link an invitation e-mail carries: the console's page that previews the
 * invitation (GET changes nothing) and lets the person accept or register.
 */
export function invitationLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/$/, '')}/invitations/accept?token=${encodeURIComponent(token)}`;
}

/** The status as people see it: a pending invitation past its expiry is expired, whether or not the sweeper wrote it yet. */
export function effectiveStatus(row: { status: InvitationStatus; expires_at: Date }, now: Date = new Date()): InvitationStatus {
  return row.status === 'PENDING' && row.expires_at.getTime() <= now.getTime() ? 'EXPIRED' : row.status;
}

/** Throws the precise problem for an invitation that can no longer be answered. */
export function assertPending(status: InvitationStatus): void {
  switch (status) {
    case 'PENDING':
      return;
    case 'EXPIRED':
      throw httpError('invitation_expired', 'This invitation has expired; ask an Admin of the workspace to send it again.');
    case 'REVOKED':
      throw httpError('invitation_revoked', 'This invitation was revoked.');
    case 'ACCEPTED':
    case 'DECLINED':
      throw httpError('invitation_used', `This invitation was already ${status === 'ACCEPTED' ? 'accepted' : 'declined'}.`);
  }
}

export const roleNames: Record<WorkspaceRole, string> = { VIEWER: 'Viewer', EDITOR: 'Editor', ADMIN: 'Admin' };

// Passwords of 12 characters or more that lead every list of leaked passwords: refused outright.
const commonPasswords = new Set([
  '000000000000', '111111111111', '123123123123', '123456789012', '1234567890123', '12345678910', '1q2w3e4r5t6y', 'abc123456789', 'abcdefghijkl',
  'administrator', 'changeme1234', 'iloveyou1234', 'letmein12345', 'password1234', 'password12345', 'password123!', 'passwordpassword', 'qwerty123456',
  'qwertyuiop12', 'qwertyuiopasdfgh', 'welcome12345', 'trustno11234', 'football1234', 'baseball1234', 'sunshine1234', 'princess1234',
]);

/** Fewer distinct characters than this (`aaaaaaaaaaaa`, `abababababab`) is not a password. */
const minDistinctCharacters = 4;

/**
 * What is wrong with a new account's password beyond its length (the contract
 * checks that): NIST SP 800-63B's advice — no composition rules, but no
 * password that an attacker tries first (a very common one, a repeated
 * character, the person's own e-mail address or name).
 */
export function passwordProblems(password: string, person: { email: string; name: string }): string[] {
  const lowered = password.toLowerCase();
  const problems: string[] = [];
  const localPart = person.email.split('@')[0] ?? '';
  if (commonPasswords.has(lowered)) problems.push('is one of the most common passwords');
  if (new Set(password).size < minDistinctCharacters) problems.push(`needs at least ${minDistinctCharacters} different characters`);
  if (lowered.includes(person.email.toLowerCase()) || (localPart.length >= 3 && lowered.includes(localPart.toLowerCase()))) problems.push('may not contain your e-mail address');
  const name = person.name.trim().toLowerCase();
  if (name.length >= 3 && lowered.includes(name)) problems.push('may not contain your name');
  return problems;
}
