import { sql, type Kysely, type Transaction } from 'kysely';
import type { JobPayload, Schemas, WorkspaceRole } from '@hexa/contract';
import { auditActor, enqueueJob, httpError, processOnce, recordAudit, type JobKey, type UserCaller } from '@hexa/kit';
import type { InvitationStatus, MembershipDatabase } from '../../database.js';
import { assertStillManages, hasMembers, lockWorkspace } from '../memberships/membership-changes.js';
import { findUserById } from '../users/users-repository.js';
import type { WorkspaceDirectory, WorkspaceFacts } from '../workspaces/workspace-directory.js';
import { effectiveStatus } from './invitations-fns.js';
import { findInvitation, findPendingInvitation, pageInvitations, revokePendingInvitations, toInvitation, type InvitationRow } from './invitations-repository.js';

export interface InvitationsServiceDeps {
  db: Kysely<MembershipDatabase>;
  workspaces: WorkspaceDirectory;
  /** How long a link works after it is sent (INVITATION_TTL_DAYS). */
  ttlDays: number;
  /** Invitation e-mails (invitations and resends) a workspace may send in 24 hours. */
  perWorkspacePerDay: number;
}

/** Escapes LIKE's wildcards so a search for `50%` means those three characters. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** Sweeps this many expired invitations per transaction; the rest wait for the next pass. */
const expiryBatchSize = 500;

/**
 * The Admin's side of invitations: search people, invite, list, resend,
 * revoke; and what happens on its own (expiry, archived workspaces). Every
 * change runs under the workspace's lock, writes its audit entry and its
 * e-mail job in the same transaction (the outbox), and never holds a secret:
 * the e-mail worker makes the link's token when it sends the mail.
 */
export function createInvitationsService(deps: InvitationsServiceDeps) {
  const { db } = deps;

  /** Takes one invitation e-mail from the workspace's daily budget, or answers 429 with when the oldest leaves the window. */
  async function spendDailyBudget(trx: Transaction<MembershipDatabase>, slug: string, invitationId: string): Promise<void> {
    const { rows } = await sql<{ sent: number; retry_after: number | null }>`
      select count(*)::int as sent, ceil(extract(epoch from min(sent_at) + interval '1 day' - now()))::int as retry_after
      from invitation_sends where workspace_slug = ${slug} and sent_at > now() - interval '1 day'`.execute(trx);
    const { sent, retry_after: retryAfter } = rows[0]!;
    if (sent >= deps.perWorkspacePerDay) {
      throw httpError('too_many_requests', `This workspace sent ${sent} invitations in the last 24 hours, its limit; try again later.`, {
        headers: { 'retry-after': String(Math.max(1, retryAfter ?? 1)) },
      });
    }
    await trx.insertInto('invitation_sends').values({ workspace_slug: slug, invitation_id: invitationId }).execute();
  }

  async function assertNotMember(trx: Transaction<MembershipDatabase>, slug: string, email: string): Promise<void> {
    const member = await trx
      .selectFrom('workspace_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select('m.role')
      .where('m.workspace_slug', '=', slug)
      .where('u.email', '=', email)
      .executeTakeFirst();
    if (member) throw httpError('already_member', `${email} is already a member of this workspace (${member.role}).`);
  }

  /** The mail job of an invitation's current send: ids only, never the token. */
  async function orderMail(trx: Transaction<MembershipDatabase>, invitationId: string, send: number): Promise<void> {
    await enqueueJob(trx, 'membership', 'invitation.mail', { invitationId, send }, `invitation.mail-${invitationId}-${send}`);
  }

  /** An active workspace, or 404 as for a workspace that does not exist. */
  async function activeWorkspace(slug: string): Promise<WorkspaceFacts> {
    const facts = await deps.workspaces.describe(slug);
    if (facts.archived) throw httpError('workspace_not_found');
    return facts;
  }

  async function reread(trx: Transaction<MembershipDatabase>, id: string): Promise<InvitationRow> {
    return (await findInvitation(trx, id))!;
  }

  return {
    /**
     * People of the organization to invite to `workspace`, current members
     * left out. The route binding checked the caller's role in `workspace`
     * (`x-workspace-param`).
     */
    async searchCandidates(input: { workspace: string; query?: string; limit: number }): Promise<Schemas['UserCandidate'][]> {
      let query = db
        .selectFrom('users as u')
        .select(['u.id', 'u.name', 'u.email'])
        .select((eb) =>
          eb
            .exists(eb.selectFrom('invitations as i').select('i.id').whereRef('i.email', '=', 'u.email').where('i.workspace_slug', '=', input.workspace).where('i.status', '=', 'PENDING').where('i.expires_at', '>', sql<Date>`now()`))
            .as('pending'),
        )
        .where((eb) => eb.not(eb.exists(eb.selectFrom('workspace_memberships as m').select('m.user_id').whereRef('m.user_id', '=', 'u.id').where('m.workspace_slug', '=', input.workspace))));
      const search = input.query?.trim();
      if (search) query = query.where((eb) => eb.or([eb('u.name', 'ilike', likePattern(search)), eb('u.email', 'ilike', likePattern(search))]));
      const rows = await query.orderBy(sql`lower(u.name)`).orderBy('u.id').limit(input.limit).execute();
      return rows.map((row) => ({ id: row.id, name: row.name, email: row.email, pendingInvitation: Boolean(row.pending) }));
    },

    /**
     * Invites a person by e-mail or user id. Refused for a current member and
     * for someone already invited (a pending invitation that ran out is marked
     * expired first, and no longer stands in the way). `inTransaction` sees
     * the new invitation in the inviting transaction: the idempotent answer
     * commits with it.
     */
    async invite(
      caller: UserCaller,
      slug: string,
      input: { email?: string; userId?: string; role: WorkspaceRole },
      inTransaction?: (trx: Transaction<MembershipDatabase>, invitation: Schemas['Invitation']) => Promise<void>,
    ): Promise<Schemas['Invitation']> {
      let email: string;
      if (input.userId) {
        const user = await findUserById(db, input.userId);
        if (!user) throw httpError('not_found', 'No user has this id.', { errors: [{ field: 'body/userId', message: 'no user has this id' }] });
        email = user.email;
      } else {
        email = input.email!.toLowerCase();
      }
      const workspace = await activeWorkspace(slug);
      return db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, slug);
        await assertStillManages(trx, caller, slug);
        await assertNotMember(trx, slug, email);
        const pending = await findPendingInvitation(trx, slug, email);
        if (pending && effectiveStatus(pending) === 'PENDING') throw httpError('invitation_pending', `${email} already has a pending invitation to this workspace; resend it instead.`);
        if (pending) await markExpired(trx, [pending.id]);
        const { id } = await trx
          .insertInto('invitations')
          .values({
            workspace_id: workspace.id,
            workspace_slug: slug,
            workspace_name: workspace.name,
            email,
            role: input.role,
            status: 'PENDING',
            invited_by: caller.userId,
            token_hash: null,
            expires_at: sql<Date>`now() + make_interval(days => ${deps.ttlDays})`,
            responded_at: null,
            mail_error: null,
            mail_last_attempt_at: null,
            mail_sent_at: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await spendDailyBudget(trx, slug, id);
        await orderMail(trx, id, 1);
        await recordAudit(trx, { workspaceId: workspace.id, workspaceSlug: slug, actor: auditActor(caller), action: 'invitation.sent', target: id, after: { email, role: input.role } });
        const invitation = toInvitation(await reread(trx, id));
        if (inTransaction) await inTransaction(trx, invitation);
        return invitation;
      });
    },

    async list(slug: string, options: { status?: InvitationStatus; page: number; perPage: number }): Promise<{ items: Schemas['Invitation'][]; total: number }> {
      const { rows, total } = await pageInvitations(db, { slug, ...options });
      if (total === 0 && !(await hasMembers(db, slug))) throw httpError('workspace_not_found');
      return { items: rows.map(toInvitation), total };
    },

    /**
     * Sends an invitation again: a new expiry, a new token (made by the mail
     * worker; the old one stops working in this transaction), the caller as
     * its inviter. Pending, expired and declined invitations; an accepted or
     * revoked one is final.
     */
    async resend(caller: UserCaller, slug: string, id: string): Promise<Schemas['Invitation']> {
      const workspace = await activeWorkspace(slug);
      return db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, slug);
        await assertStillManages(trx, caller, slug);
        const row = await findInvitation(trx, id);
        if (!row || row.workspace_slug !== slug) throw httpError('invitation_not_found', 'This workspace has no invitation with this id.');
        if (row.status === 'ACCEPTED') throw httpError('invitation_used', 'This invitation was accepted; there is nothing to resend.');
        if (row.status === 'REVOKED') throw httpError('invitation_revoked', 'This invitation was revoked; invite the person again instead.');
        await assertNotMember(trx, slug, row.email);
        if (row.status !== 'PENDING') {
          const pending = await findPendingInvitation(trx, slug, row.email);
          if (pending && effectiveStatus(pending) === 'PENDING') throw httpError('invitation_pending', `${row.email} has another pending invitation to this workspace.`);
          if (pending) await markExpired(trx, [pending.id]);
        }
        await spendDailyBudget(trx, slug, id);
        const { send_count: send } = await trx
          .updateTable('invitations')
          .set({
            status: 'PENDING',
            token_hash: null,
            send_count: sql<number>`send_count + 1`,
            expires_at: sql<Date>`now() + make_interval(days => ${deps.ttlDays})`,
            invited_by: caller.userId,
            workspace_name: workspace.name,
            responded_at: null,
            mail_status: 'queued',
            mail_attempts: 0,
            mail_error: null,
            mail_last_attempt_at: null,
            mail_sent_at: null,
            updated_at: sql<Date>`now()`,
          })
          .where('id', '=', id)
          .returning('send_count')
          .executeTakeFirstOrThrow();
        await orderMail(trx, id, send);
        await recordAudit(trx, {
          workspaceId: row.workspace_id,
          workspaceSlug: slug,
          actor: auditActor(caller),
          action: 'invitation.resent',
          target: id,
          before: { status: effectiveStatus(row), expiresAt: row.expires_at.toISOString() },
          after: { email: row.email, role: row.role, send },
        });
        return toInvitation(await reread(trx, id));
      });
    },

    /** Revokes an invitation that is not final yet; its link stops working at once. */
    async revoke(caller: UserCaller, slug: string, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, slug);
        await assertStillManages(trx, caller, slug);
        const row = await findInvitation(trx, id);
        if (!row || row.workspace_slug !== slug) throw httpError('invitation_not_found', 'This workspace has no invitation with this id.');
        if (row.status === 'ACCEPTED') throw httpError('invitation_used', 'This invitation was accepted: remove the member instead.');
        if (row.status === 'REVOKED') throw httpError('invitation_revoked', 'This invitation is already revoked.');
        await trx.updateTable('invitations').set({ status: 'REVOKED', responded_at: sql<Date>`now()`, updated_at: sql<Date>`now()` }).where('id', '=', id).execute();
        await recordAudit(trx, {
          workspaceId: row.workspace_id,
          workspaceSlug: slug,
          actor: auditActor(caller),
          action: 'invitation.revoked',
          target: id,
          before: { status: effectiveStatus(row) },
          after: { email: row.email, role: row.role, reason: 'revoked-by-admin' },
        });
      });
    },

    /**
     * An archived workspace's pending invitations are revoked (once per event:
     * the inbox). A restored workspace does not bring them back.
     */
    async revokeForArchivedWorkspace(event: JobPayload<'membership', 'workspace.archived'>, job: JobKey): Promise<void> {
      await processOnce(db, job, async (trx) => {
        await lockWorkspace(trx, event.slug);
        await revokePendingInvitations(trx, { slug: event.slug }, { actor: { kind: 'user', userId: event.actorId }, reason: 'workspace-archived' });
      });
    },

    /**
     * Writes `EXPIRED` on pending invitations whose time ran out, each with its
     * audit entry; reads already show them expired, this makes it final and
     * traced. Returns how many it marked.
     */
    async expireDue(): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const due = await trx
          .selectFrom('invitations')
          .select('id')
          .where('status', '=', 'PENDING')
          .where('expires_at', '<=', sql<Date>`now()`)
          .orderBy('expires_at')
          .limit(expiryBatchSize)
          .forUpdate()
          .skipLocked()
          .execute();
        return markExpired(trx, due.map((row) => row.id));
      });
    },

    /** Forgets sends older than the daily budget's window (it never counts them again). */
    async pruneSendLog(): Promise<number> {
      const result = await db.deleteFrom('invitation_sends').where('sent_at', '<', sql<Date>`now() - interval '2 days'`).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };

  async function markExpired(trx: Transaction<MembershipDatabase>, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const expired = await trx
      .updateTable('invitations')
      .set({ status: 'EXPIRED', responded_at: sql<Date>`expires_at`, updated_at: sql<Date>`now()` })
      .where('id', 'in', ids)
      .where('status', '=', 'PENDING')
      .returning(['id', 'workspace_id', 'workspace_slug', 'email', 'role', 'expires_at'])
      .execute();
    for (const row of expired) {
      await recordAudit(trx, {
        workspaceId: row.workspace_id,
        workspaceSlug: row.workspace_slug,
        actor: { kind: 'service', service: 'membership' },
        action: 'invitation.expired',
        target: row.id,
        after: { email: row.email, role: row.role },
        at: row.expires_at,
      });
    }
    return expired.length;
  }
}

export type InvitationsService = ReturnType<typeof createInvitationsService>;
