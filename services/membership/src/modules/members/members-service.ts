import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schemas, WorkspaceRole } from '@hexa/contract';
import { auditActor, httpError, recordAudit, type UserCaller } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';
import { revokePendingInvitations, type RevocationReason } from '../invitations/invitations-repository.js';
import { assertStillManages, countAdmins, findMembership, hasMembers, lockWorkspace, publishMembershipChange } from '../memberships/membership-changes.js';

export interface MembersServiceDeps {
  db: Kysely<MembershipDatabase>;
  announceAccessChanged: (userId: string) => Promise<void>;
}

async function getMember(db: Kysely<MembershipDatabase> | Transaction<MembershipDatabase>, slug: string, userId: string): Promise<Schemas['Member']> {
  const row = await db
    .selectFrom('workspace_memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.name', 'u.email', 'm.role', 'm.created_at'])
    .where('m.workspace_slug', '=', slug)
    .where('m.user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return { userId: row.id, name: row.name, email: row.email, role: row.role, since: row.created_at.toISOString() };
}

/**
 * A workspace's members: list, change a role, remove, leave. Every change runs
 * under the workspace's lock, so the last-Admin guard counts Admins with no
 * concurrent demotion slipping in between; it publishes `membership.changed`
 * and writes the audit trail in the same transaction, and announces the
 * change after the commit so the member's next request has the new role. A
 * member who stops being Admin loses the invitations they sent that are
 * still pending.
 */
export function createMembersService(deps: MembersServiceDeps) {
  const { db } = deps;

  /** Removes a membership (a removal or a leave) inside the caller's transaction, guarding the last Admin. */
  async function removeMembership(
    trx: Transaction<MembershipDatabase>,
    input: { slug: string; userId: string; caller: UserCaller; action: 'member.removed' | 'member.left'; reason: RevocationReason },
  ): Promise<void> {
    const membership = await findMembership(trx, input.slug, input.userId);
    if (!membership) {
      throw httpError('not_found', input.action === 'member.left' ? 'You are not a member of this workspace.' : 'This workspace has no member with this id.');
    }
    if (membership.role === 'ADMIN' && (await countAdmins(trx, input.slug)) <= 1) {
      throw httpError('last_admin', input.action === 'member.left' ? 'You are the last Admin: make someone else Admin before you leave.' : 'This is the last Admin of the workspace; it cannot be removed.');
    }
    await trx.deleteFrom('workspace_memberships').where('workspace_slug', '=', input.slug).where('user_id', '=', input.userId).execute();
    await publishMembershipChange(trx, { workspaceId: membership.workspaceId, slug: input.slug, userId: input.userId, role: null });
    await recordAudit(trx, { workspaceId: membership.workspaceId, workspaceSlug: input.slug, actor: auditActor(input.caller), action: input.action, target: input.userId, before: membership.role });
    await revokePendingInvitations(trx, { slug: input.slug, inviterId: input.userId }, { actor: auditActor(input.caller), reason: input.reason });
  }

  return {
    async list(slug: string, options: { page: number; perPage: number }): Promise<{ items: Schemas['Member'][]; total: number }> {
      const base = db.selectFrom('workspace_memberships as m').where('m.workspace_slug', '=', slug);
      const [rows, count] = await Promise.all([
        base
          .innerJoin('users as u', 'u.id', 'm.user_id')
          .select(['u.id', 'u.name', 'u.email', 'm.role', 'm.created_at'])
          .orderBy(sql`lower(u.name)`)
          .orderBy('u.id')
          .limit(options.perPage)
          .offset((options.page - 1) * options.perPage)
          .execute(),
        base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
      ]);
      const total = Number(count.total);
      // An organization Owner or Admin passes the gateway for any slug: one without members does not exist.
      if (total === 0 && !(await hasMembers(db, slug))) throw httpError('workspace_not_found');
      return { items: rows.map((row) => ({ userId: row.id, name: row.name, email: row.email, role: row.role, since: row.created_at.toISOString() })), total };
    },

    async changeRole(caller: UserCaller, slug: string, userId: string, role: WorkspaceRole): Promise<Schemas['Member']> {
      if (userId === caller.userId) throw httpError('own_role_change', 'Nobody changes their own role: ask another Admin.');
      const { member, changed } = await db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, slug);
        await assertStillManages(trx, caller, slug);
        const membership = await findMembership(trx, slug, userId);
        if (!membership) throw httpError('not_found', 'This workspace has no member with this id.');
        if (membership.role === role) return { member: await getMember(trx, slug, userId), changed: false };
        if (membership.role === 'ADMIN' && (await countAdmins(trx, slug)) <= 1) {
          throw httpError('last_admin', 'This is the last Admin of the workspace; make someone else Admin first.');
        }
        await trx.updateTable('workspace_memberships').set({ role, updated_at: sql<Date>`now()` }).where('workspace_slug', '=', slug).where('user_id', '=', userId).execute();
        await publishMembershipChange(trx, { workspaceId: membership.workspaceId, slug, userId, role });
        await recordAudit(trx, { workspaceId: membership.workspaceId, workspaceSlug: slug, actor: auditActor(caller), action: 'member.role-changed', target: userId, before: membership.role, after: role });
        if (membership.role === 'ADMIN') {
          await revokePendingInvitations(trx, { slug, inviterId: userId }, { actor: auditActor(caller), reason: 'inviter-lost-admin' });
        }
        return { member: await getMember(trx, slug, userId), changed: true };
      });
      if (changed) await deps.announceAccessChanged(userId);
      return member;
    },

    /** An Admin removes a member; removing oneself is leaving. */
    async remove(caller: UserCaller, slug: string, userId: string): Promise<void> {
      const self = userId === caller.userId;
      await db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, slug);
        if (!self) await assertStillManages(trx, caller, slug);
        await removeMembership(trx, { slug, userId, caller, action: self ? 'member.left' : 'member.removed', reason: self ? 'inviter-left' : 'inviter-lost-admin' });
      });
      await deps.announceAccessChanged(userId);
    },

    async leave(caller: UserCaller, slug: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, slug);
        await removeMembership(trx, { slug, userId: caller.userId, caller, action: 'member.left', reason: 'inviter-left' });
      });
      await deps.announceAccessChanged(caller.userId);
    },
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
