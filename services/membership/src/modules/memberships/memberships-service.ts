import type { Kysely, Transaction } from 'kysely';
import type { Redis } from 'ioredis';
import type { Schemas, WorkspaceRole } from '@hexa/contract';
import { httpError, processOnce, recordAudit, type JobKey } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';
import { findUserById } from '../users/users-repository.js';
import { createAccessAnnouncer } from './access-announcer.js';
import { lockWorkspace, publishMembershipChange } from './membership-changes.js';

/** What the gateway needs to know about a caller to forward a request. */
export type Access = Schemas['Access'];

export function createMembershipsService(deps: { db: Kysely<MembershipDatabase>; redis: Redis; queuePrefix: string }) {
  const { db } = deps;
  const announceAccessChanged = createAccessAnnouncer(deps);

  return {
    async resolveAccess(userId: string, workspaceSlug: string | undefined): Promise<Access> {
      const user = await findUserById(db, userId);
      if (!user) throw httpError('not_found', 'No such user.');
      const adminRow = await db
        .selectFrom('workspace_memberships')
        .select('workspace_slug')
        .where('user_id', '=', userId)
        .where('role', '=', 'ADMIN')
        .limit(1)
        .executeTakeFirst();
      const [membership, archived] = workspaceSlug
        ? await Promise.all([
            db.selectFrom('workspace_memberships').select('role').where('user_id', '=', userId).where('workspace_slug', '=', workspaceSlug).executeTakeFirst(),
            db.selectFrom('archived_workspaces').select('workspace_slug').where('workspace_slug', '=', workspaceSlug).executeTakeFirst(),
          ])
        : [undefined, undefined];
      return { organizationRole: user.organization_role, adminSomewhere: adminRow !== undefined, workspaceRole: membership?.role ?? null, workspaceArchived: archived !== undefined };
    },

    async listUserMemberships(userId: string): Promise<{ workspaceSlug: string; role: WorkspaceRole }[]> {
      const rows = await db.selectFrom('workspace_memberships').select(['workspace_slug', 'role']).where('user_id', '=', userId).execute();
      return rows.map((row) => ({ workspaceSlug: row.workspace_slug, role: row.role }));
    },

    /**
     * Makes the creator the workspace's first Admin. Idempotent: called
     * synchronously by the workspaces service and again by the outbox job.
     * An existing membership is left as it is, whatever its role: the job may
     * be delivered again long after an Admin changed the creator's role, and
     * a redelivery must not undo that decision. From a job, the job's id is
     * recorded with the effect (the inbox), so a redelivery changes nothing.
     */
    async grantCreatorAdmin(input: { workspaceSlug: string; workspaceId: string; userId: string }, job?: JobKey): Promise<'granted' | 'already-member'> {
      const user = await findUserById(db, input.userId);
      if (!user) throw httpError('not_found', 'No such user.');
      // The row, its membership.changed event and its audit entry commit together.
      const grant = async (trx: Transaction<MembershipDatabase>) => {
        await lockWorkspace(trx, input.workspaceSlug);
        const inserted = await trx
          .insertInto('workspace_memberships')
          .values({ workspace_slug: input.workspaceSlug, workspace_id: input.workspaceId, user_id: input.userId, role: 'ADMIN' })
          .onConflict((conflict) => conflict.columns(['workspace_slug', 'user_id']).doNothing())
          .returning('user_id')
          .executeTakeFirst();
        if (!inserted) return 'already-member' as const;
        await publishMembershipChange(trx, { workspaceId: input.workspaceId, slug: input.workspaceSlug, userId: input.userId, role: 'ADMIN' });
        await recordAudit(trx, {
          workspaceId: input.workspaceId,
          workspaceSlug: input.workspaceSlug,
          actor: { kind: 'user', userId: input.userId },
          action: 'member.added',
          target: input.userId,
          after: { role: 'ADMIN', as: 'creator' },
        });
        return 'granted' as const;
      };
      let outcome: 'granted' | 'already-member';
      if (job) {
        const once = await processOnce(db, job, grant);
        outcome = once.duplicate ? 'already-member' : once.result;
      } else {
        outcome = await db.transaction().execute(grant);
      }
      // Announced after the commit, so a gateway that reloads at once sees the new role.
      if (outcome === 'granted') await announceAccessChanged(input.userId);
      return outcome;
    },
  };
}

export type MembershipsService = ReturnType<typeof createMembershipsService>;
