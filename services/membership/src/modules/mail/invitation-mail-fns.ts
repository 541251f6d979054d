import type { WorkspaceRole } from '@hexa/contract';
import { roleNames } from '../invitations/invitations-fns.js';
import type { MailMessage } from './mail-transport.js';

const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Names are typed by people: in HTML they are text, never markup. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEntities[character]!);
}

/** One line, whatever the name holds: a header never spans lines. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The invitation e-mail, as text and HTML: who invites, to which workspace,
 * with which role, the link, and until when it works.
 */
export function invitationMail(input: { to: string; workspaceName: string; inviterName: string; role: WorkspaceRole; link: string; expiresAt: Date }): MailMessage {
  const workspace = oneLine(input.workspaceName);
  const inviter = oneLine(input.inviterName);
  const role = roleNames[input.role];
  const until = input.expiresAt.toUTCString();
  const text = [
    `${inviter} invited you to join the workspace "${workspace}" on Hexa as ${role}.`,
    '',
    'Open this link to see the invitation and accept it (or decline it):',
    input.link,
    '',
    `The link works once, until ${until}. If you did not expect this invitation, ignore this e-mail.`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(inviter)} invited you to join the workspace <strong>${escapeHtml(workspace)}</strong> on Hexa as <strong>${role}</strong>.</p>`,
    `<p><a href="${escapeHtml(input.link)}">See the invitation and accept it</a></p>`,
    `<p>The link works once, until ${escapeHtml(until)}. If you did not expect this invitation, ignore this e-mail.</p>`,
    '</body></html>',
  ].join('\n');
  return { to: input.to, subject: `${inviter} invited you to ${workspace} on Hexa`, text, html };
}
