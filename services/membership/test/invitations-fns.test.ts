import { generateKeyPairSync } from 'node:crypto';
import { effectiveStatus, invitationLink, invitationSendToken, invitationTokenKey, passwordProblems } from '../src/modules/invitations/invitations-fns.js';
import { invitationMail } from '../src/modules/mail/invitation-mail-fns.js';
import { describeMailError, isRejectedForGood } from '../src/modules/mail/mail-transport.js';

const person = { email: 'ada.lovelace@example.org', name: 'Ada Lovelace' };

describe('when a new account chooses a password', () => {
  it.each([
    ['password1234', 'is one of the most common passwords'],
    ['PASSWORD1234', 'is one of the most common passwords'],
    ['zzzzzzzzzzzzzzzz', 'needs at least 4 different characters'],
    ['abababababababab', 'needs at least 4 different characters'],
    ['ada.lovelace@example.org!', 'may not contain your e-mail address'],
    ['my ada.lovelace secret', 'may not contain your e-mail address'],
    ['I am ADA LOVELACE, hi', 'may not contain your name'],
  ])('refuses %j: it %s', (password, problem) => {
    expect(passwordProblems(password, person)).toContain(problem);
  });

  it('accepts a long personal passphrase', () => {
    expect(passwordProblems('correct horse battery staple', person)).toEqual([]);
  });
});

describe('when an invitation is read', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it('reads a pending invitation past its expiry as EXPIRED, and leaves the others as stored', () => {
    expect(effectiveStatus({ status: 'PENDING', expires_at: new Date('2026-12-01T11:59:59Z') }, now)).toBe('EXPIRED');
    expect(effectiveStatus({ status: 'PENDING', expires_at: new Date('2026-12-01T12:00:01Z') }, now)).toBe('PENDING');
    expect(effectiveStatus({ status: 'ACCEPTED', expires_at: new Date('2026-11-01T00:00:00Z') }, now)).toBe('ACCEPTED');
  });

  it('builds the link on the public URL, whatever its trailing slash', () => {
    expect(invitationLink('https://hexa.example.org/platform/', 'abc_DEF-123')).toBe('https://hexa.example.org/platform/invitations/accept?token=abc_DEF-123');
  });
});

describe('when an invitation e-mail is composed from names people typed', () => {
  it('keeps markup out of the HTML and line breaks out of the subject', () => {
    const mail = invitationMail({
      to: 'x@example.org',
      workspaceName: 'Evil <script>alert(1)</script>\nBcc: victim@example.org',
      inviterName: 'Mallory "M" <b>',
      role: 'ADMIN',
      link: 'https://hexa.example.org/invitations/accept?token=t',
      expiresAt: new Date('2026-12-08T12:00:00Z'),
    });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('Evil &lt;script&gt;alert(1)&lt;/script&gt; Bcc: victim@example.org');
    expect(mail.html).toContain('Mallory &quot;M&quot; &lt;b&gt;');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.text).toContain('as Admin.');
    expect(mail.text).toContain('until Tue, 08 Dec 2026 12:00:00 GMT');
  });
});

describe('when a delivery fails', () => {
  it('describes the error for Admins without the credentials of the SMTP URL', () => {
    const error = Object.assign(new Error('Invalid login for smtp://mailer:hunter2@smtp.example.org:587'), { code: 'EAUTH', responseCode: 535 });
    expect(describeMailError(error)).toBe('EAUTH: 535: Invalid login for smtp://[redacted]@smtp.example.org:587');
  });

  it('tells a refusal for good (5xx) from a failure worth retrying', () => {
    expect(isRejectedForGood(Object.assign(new Error('no such mailbox'), { responseCode: 550 }))).toBe(true);
    expect(isRejectedForGood(Object.assign(new Error('try later'), { responseCode: 451 }))).toBe(false);
    expect(isRejectedForGood(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toBe(false);
  });
});

describe('when a send of an invitation makes its link', () => {
  const { privateKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { format: 'pem', type: 'pkcs8' }, publicKeyEncoding: { format: 'pem', type: 'spki' } });
  const key = invitationTokenKey(privateKey);
  const id = '3f1c8f9e-6a43-4a8e-9b1e-2f4c1d0b7a55';

  it('makes the same 43-character URL-safe token for every attempt of one send', () => {
    const token = invitationSendToken(key, id, 1);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(invitationSendToken(invitationTokenKey(privateKey), id, 1)).toBe(token);
  });

  it('makes another for the next send, another invitation, or another key', () => {
    const token = invitationSendToken(key, id, 1);
    const otherKey = invitationTokenKey(generateKeyPairSync('ed25519', { privateKeyEncoding: { format: 'pem', type: 'pkcs8' }, publicKeyEncoding: { format: 'pem', type: 'spki' } }).privateKey);
    expect(new Set([token, invitationSendToken(key, id, 2), invitationSendToken(key, '3f1c8f9e-6a43-4a8e-9b1e-2f4c1d0b7a56', 1), invitationSendToken(otherKey, id, 1)]).size).toBe(4);
  });
});
