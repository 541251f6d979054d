import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { recordAudit, type AuditEntry } from '@hexa/kit';
import type { InvitationsTable, InvitationStatus, MembershipDatabase } from '../../database.js';
import { effectiveStatus } from './invitations-fns.js';

type Executor = Kysely<MembershipDatabase> | Transaction<MembershipDatabase>;

export type InvitationRow = Selectable<InvitationsTable> & { inviter_name: string };

/** Invitations with their inviter's name. */
function selectInvitations(db: Executor) {
  return db
    .selectFrom('invitations')
    .innerJoin('users as inviter', 'inviter.id', 'invitations.invited_by')
    .selectAll('invitations')
    .select('inviter.name as inviter_name');
}

export async function findInvitation(db: Executor, id: string, options: { forUpdate?: boolean } = {}): Promise<InvitationRow | undefined> {
  let query = selectInvitations(db).where('invitations.id', '=', id);
  if (options.forUpdate) query = query.forUpdate('invitations');
  return query.executeTakeFirst();
}

export async function findInvitationByTokenHash(db: Executor, tokenHash: string): Promise<InvitationRow | undefined> {
  return selectInvitations(db).where('invitations.token_hash', '=', tokenHash).executeTakeFirst();
}

/** The pending invitation of a person to a workspace, expired or not. */
export async function findPendingInvitation(db: Executor, slug: string, email: string): Promise<InvitationRow | undefined> {
  return selectInvitations(db).where('invitations.workspace_slug', '=', slug).where('invitations.email', '=', email).where('invitations.status', '=', 'PENDING').executeTakeFirst();
}

/** One page of a workspace's invitations, newest first; `EXPIRED` includes pending ones past their expiry. */
export async function pageInvitations(
  db: Executor,
  options: { slug: string; status?: InvitationStatus; page: number; perPage: number },
): Promise<{ rows: InvitationRow[]; total: number }> {
  let base = db.selectFrom('invitations').where('workspace_slug', '=', options.slug);
  if (options.status === 'PENDING') base = base.where('status', '=', 'PENDING').where('expires_at', '>', sql<Date>`now()`);
  else if (options.status === 'EXPIRED') base = base.where((eb) => eb.or([eb('status', '=', 'EXPIRED'), eb.and([eb('status', '=', 'PENDING'), eb('expires_at', '<=', sql<Date>`now()`)])]));
  else if (options.status) base = base.where('status', '=', options.status);
  const ids = base.select('id');
  const [rows, count] = await Promise.all([
    selectInvitations(db)
      .where('invitations.id', 'in', ids)
      .orderBy('invitations.created_at', 'desc')
      .orderBy('invitations.id')
      .limit(options.perPage)
      .offset((options.page - 1) * options.perPage)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.total) };
}

export function toInvitation(row: InvitationRow): Schemas['Invitation'] {
  return {
    id: row.id,
    workspaceSlug: row.workspace_slug,
    email: row.email,
    role: row.role,
    status: effectiveStatus(row),
    invitedBy: { id: row.invited_by, name: row.inviter_name },
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    respondedAt: row.responded_at?.toISOString() ?? null,
    delivery: {
      status: row.mail_status,
      attempts: row.mail_attempts,
      lastError: row.mail_error,
      lastAttemptAt: row.mail_last_attempt_at?.toISOString() ?? null,
      sentAt: row.mail_sent_at?.toISOString() ?? null,
    },
  };
}

export function toReceivedInvitation(row: InvitationRow): Schemas['ReceivedInvitation'] {
  return {
    id: row.id,
    workspace: { slug: row.workspace_slug, name: row.workspace_name },
    role: row.role,
    email: row.email,
    status: effectiveStatus(row),
    invitedBy: { id: row.invited_by, name: row.inviter_name },
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
}

/** Why invitations were revoked, as the audit trail says it. */
export type RevocationReason = 'revoked-by-admin' | 'inviter-lost-admin' | 'inviter-left' | 'workspace-archived';

/**
 * Revokes pending invitations (expired ones included) in the caller's
 * transaction, each with its audit entry. `inviterId` limits it to the
 * invitations one person sent.
 */
export async function revokePendingInvitations(
  trx: Transaction<MembershipDatabase>,
  scope: { slug: string; inviterId?: string },
  audit: { actor: AuditEntry['actor']; reason: RevocationReason },
): Promise<number> {
  let update = trx
    .updateTable('invitations')
    .set({ status: 'REVOKED', responded_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('workspace_slug', '=', scope.slug)
    .where('status', '=', 'PENDING');
  if (scope.inviterId) update = update.where('invited_by', '=', scope.inviterId);
  const revoked = await update.returning(['id', 'workspace_id', 'workspace_slug', 'email', 'role']).execute();
  for (const row of revoked) {
    await recordAudit(trx, {
      workspaceId: row.workspace_id,
      workspaceSlug: row.workspace_slug,
      actor: audit.actor,
      action: 'invitation.revoked',
      target: row.id,
      after: { email: row.email, role: row.role, reason: audit.reason },
    });
  }
  return revoked.length;
}
