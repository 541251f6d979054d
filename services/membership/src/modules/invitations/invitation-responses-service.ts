import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { httpError, isUniqueViolation, recordAudit, type UserCaller } from '@hexa/kit';
import type { MembershipDatabase, UsersTable } from '../../database.js';
import type { IssuedSession } from '../auth/auth-service.js';
import { hashToken } from '../auth/tokens-fns.js';
import { lockWorkspace, publishMembershipChange } from '../memberships/membership-changes.js';
import { findUserByEmail, findUserById, insertUser } from '../users/users-repository.js';
import type { WorkspaceDirectory } from '../workspaces/workspace-directory.js';
import { assertPending, effectiveStatus, passwordProblems } from './invitations-fns.js';
import { findInvitation, findInvitationByTokenHash, toReceivedInvitation, type InvitationRow } from './invitations-repository.js';

type UserRow = Selectable<UsersTable>;

export interface InvitationResponsesDeps {
  db: Kysely<MembershipDatabase>;
  workspaces: WorkspaceDirectory;
  hashPassword: (password: string) => Promise<string>;
  announceAccessChanged: (userId: string) => Promise<void>;
  /** Signs the new account in (the auth service's). */
  openSession: (user: UserRow) => Promise<IssuedSession>;
}

/**
 * The invited person's side: preview a link (reading changes nothing, so a
 * mail scanner that opens it accepts nothing), see their invitations, accept
 * or decline one made to their own e-mail address, or create their account
 * with the link's token. Accepting grants the role, publishes
 * `membership.changed` and writes the audit trail in one transaction.
 */
export function createInvitationResponsesService(deps: InvitationResponsesDeps) {
  const { db } = deps;

  async function byToken(token: string): Promise<InvitationRow> {
    const row = await findInvitationByTokenHash(db, hashToken(token));
    if (!row) throw httpError('invitation_not_found', 'This invitation link is not valid: it is wrong, or a newer e-mail replaced it.');
    return row;
  }

  /**
   * A workspace archived since the invitation was sent cannot be joined: the
   * archive event revokes its invitations, and this closes the moment before
   * that event is processed.
   */
  async function assertWorkspaceActive(row: InvitationRow): Promise<void> {
    let archived: boolean;
    try {
      archived = (await deps.workspaces.describe(row.workspace_slug)).archived;
    } catch (error) {
      if ((error as { code?: string }).code !== 'workspace_not_found') throw error;
      archived = true;
    }
    if (!archived) return;
    await db.updateTable('invitations').set({ status: 'REVOKED', responded_at: sql<Date>`now()`, updated_at: sql<Date>`now()` }).where('id', '=', row.id).where('status', '=', 'PENDING').execute();
    throw httpError('invitation_revoked', 'This workspace was archived; its invitations were revoked.');
  }

  /**
   * Grants the invitation's role and marks it accepted, under the workspace's
   * lock, after reading it again: a concurrent accept, decline, resend or
   * revocation wins or loses cleanly. A person who became a member another
   * way meanwhile keeps the role they have.
   */
  async function acceptInTransaction(trx: Transaction<MembershipDatabase>, invitationId: string, user: UserRow, expectedTokenHash?: string): Promise<{ granted: boolean; row: InvitationRow }> {
    const current = await findInvitation(trx, invitationId, { forUpdate: true });
    if (!current || (expectedTokenHash !== undefined && current.token_hash !== expectedTokenHash)) {
      throw httpError('invitation_not_found', 'This invitation link is not valid: it is wrong, or a newer e-mail replaced it.');
    }
    assertPending(effectiveStatus(current));
    const inserted = await trx
      .insertInto('workspace_memberships')
      .values({ workspace_slug: current.workspace_slug, workspace_id: current.workspace_id, user_id: user.id, role: current.role })
      .onConflict((conflict) => conflict.columns(['workspace_slug', 'user_id']).doNothing())
      .returning('role')
      .executeTakeFirst();
    const actor = { kind: 'user', userId: user.id } as const;
    const audited = { workspaceId: current.workspace_id, workspaceSlug: current.workspace_slug, actor };
    if (inserted) {
      await publishMembershipChange(trx, { workspaceId: current.workspace_id, slug: current.workspace_slug, userId: user.id, role: current.role });
      await recordAudit(trx, { ...audited, action: 'member.added', target: user.id, after: { role: current.role, invitationId } });
    }
    await trx.updateTable('invitations').set({ status: 'ACCEPTED', responded_at: sql<Date>`now()`, updated_at: sql<Date>`now()` }).where('id', '=', invitationId).execute();
    await recordAudit(trx, { ...audited, action: 'invitation.accepted', target: invitationId, after: { email: current.email, role: current.role } });
    return { granted: inserted !== undefined, row: (await findInvitation(trx, invitationId))! };
  }

  /** The signed-in caller, who must be the person the invitation was made to. */
  async function invitee(caller: UserCaller, id: string): Promise<{ user: UserRow; row: InvitationRow }> {
    const user = await findUserById(db, caller.userId);
    if (!user) throw httpError('invalid_token', 'The user of this token no longer exists.');
    const row = await findInvitation(db, id);
    if (!row) throw httpError('invitation_not_found', 'No invitation has this id.');
    if (row.email !== user.email) throw httpError('invitation_email_mismatch', 'This invitation was made to another e-mail address than your account\'s.');
    return { user, row };
  }

  return {
    async preview(token: string): Promise<Schemas['InvitationPreview']> {
      const row = await byToken(token);
      assertPending(effectiveStatus(row));
      return { ...toReceivedInvitation(row), hasAccount: (await findUserByEmail(db, row.email)) !== undefined };
    },

    /** Pending invitations made to the caller's e-mail address, whoever typed it. */
    async listMine(caller: UserCaller): Promise<Schemas['ReceivedInvitation'][]> {
      const user = await findUserById(db, caller.userId);
      if (!user) throw httpError('invalid_token', 'The user of this token no longer exists.');
      const rows = await db
        .selectFrom('invitations')
        .innerJoin('users as inviter', 'inviter.id', 'invitations.invited_by')
        .selectAll('invitations')
        .select('inviter.name as inviter_name')
        .where('invitations.email', '=', user.email)
        .where('invitations.status', '=', 'PENDING')
        .where('invitations.expires_at', '>', sql<Date>`now()`)
        .orderBy('invitations.created_at', 'desc')
        .orderBy('invitations.id')
        .execute();
      return rows.map(toReceivedInvitation);
    },

    async accept(caller: UserCaller, id: string): Promise<Schemas['ReceivedInvitation']> {
      const { user, row } = await invitee(caller, id);
      assertPending(effectiveStatus(row));
      await assertWorkspaceActive(row);
      const result = await db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, row.workspace_slug);
        return acceptInTransaction(trx, id, user);
      });
      // After the commit: a gateway that reloads at once sees the new role.
      if (result.granted) await deps.announceAccessChanged(user.id);
      return toReceivedInvitation(result.row);
    },

    async decline(caller: UserCaller, id: string): Promise<Schemas['ReceivedInvitation']> {
      const { row } = await invitee(caller, id);
      assertPending(effectiveStatus(row));
      return db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, row.workspace_slug);
        const current = (await findInvitation(trx, id, { forUpdate: true }))!;
        assertPending(effectiveStatus(current));
        await trx.updateTable('invitations').set({ status: 'DECLINED', responded_at: sql<Date>`now()`, updated_at: sql<Date>`now()` }).where('id', '=', id).execute();
        await recordAudit(trx, {
          workspaceId: current.workspace_id,
          workspaceSlug: current.workspace_slug,
          actor: { kind: 'user', userId: caller.userId },
          action: 'invitation.declined',
          target: id,
          after: { email: current.email, role: current.role },
        });
        return toReceivedInvitation((await findInvitation(trx, id))!);
      });
    },

    /**
     * Creates the account of a person invited by e-mail and accepts the
     * invitation, in one transaction: no account without its membership, no
     * membership without its account. Then signs the new user in.
     */
    async register(input: { token: string; name: string; password: string }): Promise<IssuedSession> {
      const row = await byToken(input.token);
      assertPending(effectiveStatus(row));
      if (await findUserByEmail(db, row.email)) {
        throw httpError('email_taken', `${row.email} already has an account: sign in, then accept the invitation.`);
      }
      const problems = passwordProblems(input.password, { email: row.email, name: input.name });
      if (problems.length > 0) {
        throw httpError('weak_password', `The password ${problems.join('; ')}.`, { errors: problems.map((message) => ({ field: 'body/password', message })) });
      }
      await assertWorkspaceActive(row);
      const passwordHash = await deps.hashPassword(input.password);
      let user: UserRow;
      try {
        user = await db.transaction().execute(async (trx) => {
          await lockWorkspace(trx, row.workspace_slug);
          const user = await insertUser(trx, { email: row.email, name: input.name, passwordHash, organizationRole: 'MEMBER' });
          await acceptInTransaction(trx, row.id, user, hashToken(input.token));
          return user;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'users_email_key')) throw httpError('email_taken', `${row.email} already has an account: sign in, then accept the invitation.`);
        throw error;
      }
      return deps.openSession(user);
    },
  };
}

export type InvitationResponsesService = ReturnType<typeof createInvitationResponsesService>;
