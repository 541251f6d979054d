import { sql, type Kysely } from 'kysely';
import type { JobPayload } from '@hexa/contract';
import type { MembershipDatabase } from '../../database.js';
import { hashToken } from '../auth/tokens-fns.js';
import { invitationLink, invitationSendToken } from '../invitations/invitations-fns.js';
import { invitationMail } from './invitation-mail-fns.js';
import { describeMailError, type MailTransport } from './mail-transport.js';

export interface InvitationMailDeps {
  db: Kysely<MembershipDatabase>;
  transport: MailTransport;
  /** HEXA_PUBLIC_URL: the links are built on it. */
  publicUrl: string;
  /** What each send's link is made with (`invitationTokenKey`). */
  tokenKey: Buffer;
}

/**
 * Sends invitation e-mails. The link's token is made here, at the moment of
 * sending, and only its hash is stored: no job, queue or outbox row ever
 * holds it, and the e-mail is the only place it exists. Every attempt of one
 * send makes the same token (`invitationSendToken`): an attempt that failed
 * may still have delivered its mail, whose link must keep working. A failed
 * attempt is recorded on the invitation (Admins see it) and thrown, so the
 * job retries with backoff; the invitation itself is never lost, and a resend
 * starts over with a new link.
 */
export function createInvitationMailService(deps: InvitationMailDeps) {
  const { db } = deps;
  return {
    /** Sends the e-mail of one send of an invitation; does nothing for a send that is stale, answered or already delivered. */
    async deliver(job: JobPayload<'membership', 'invitation.mail'>): Promise<'sent' | 'skipped'> {
      const token = invitationSendToken(deps.tokenKey, job.invitationId, job.send);
      const row = await db
        .updateTable('invitations')
        .set({ token_hash: hashToken(token), mail_attempts: sql<number>`mail_attempts + 1`, mail_last_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', job.invitationId)
        .where('send_count', '=', job.send)
        .where('status', '=', 'PENDING')
        .where('mail_status', '!=', 'sent')
        .where('expires_at', '>', sql<Date>`now()`)
        .returning(['id', 'email', 'role', 'workspace_name', 'invited_by', 'expires_at'])
        .executeTakeFirst();
      if (!row) return 'skipped';
      const inviter = await db.selectFrom('users').select('name').where('id', '=', row.invited_by).executeTakeFirstOrThrow();
      const message = invitationMail({
        to: row.email,
        workspaceName: row.workspace_name,
        inviterName: inviter.name,
        role: row.role,
        link: invitationLink(deps.publicUrl, token),
        expiresAt: row.expires_at,
      });
      // Only this send's outcome is recorded: a resend meanwhile owns the invitation's delivery now.
      const thisSend = db.updateTable('invitations').where('id', '=', row.id).where('send_count', '=', job.send);
      try {
        await deps.transport.send(message);
      } catch (error) {
        await thisSend.set({ mail_status: 'failed', mail_error: describeMailError(error) }).execute();
        throw error;
      }
      await thisSend.set({ mail_status: 'sent', mail_error: null, mail_sent_at: sql<Date>`now()` }).execute();
      return 'sent';
    },
  };
}

export type InvitationMailService = ReturnType<typeof createInvitationMailService>;
