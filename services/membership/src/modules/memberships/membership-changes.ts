import { sql, type Kysely, type Transaction } from 'kysely';
import { roleHasPermission, type WorkspaceRole } from '@hexa/contract';
import { httpError, publishEvent, type UserCaller } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';

type Executor = Kysely<MembershipDatabase> | Transaction<MembershipDatabase>;

/**
 * Serialises, until the transaction ends, every change to one workspace's
 * memberships and invitations: the last-Admin guard counts Admins and the
 * daily invitation budget counts sends without a concurrent change slipping
 * between the count and the write. A transaction-scoped advisory lock: it
 * is released with the commit or the rollback, and never blocks readers.
 */
export async function lockWorkspace(trx: Transaction<MembershipDatabase>, slug: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`membership:workspace:${slug}`}, 0))`.execute(trx);
}

/**
 * Publishes `membership.changed` through the outbox, in the transaction of
 * the change (a null role: removed). The version comes from a sequence and is
 * taken after the row was written: a later change of the same membership
 * waits for this one's lock and so draws a larger number, which is what the
 * workspaces service's replica relies on (newest version wins).
 */
export async function publishMembershipChange(
  trx: Transaction<MembershipDatabase>,
  change: { workspaceId: string; slug: string; userId: string; role: WorkspaceRole | null },
): Promise<number> {
  const { rows } = await sql<{ version: string }>`select nextval('membership_change_version') as version`.execute(trx);
  const version = Number(rows[0]!.version);
  await publishEvent(trx, 'membership.changed', { ...change, version }, String(version));
  return version;
}

export interface MembershipRow {
  workspaceId: string;
  role: WorkspaceRole;
  since: Date;
}

export async function findMembership(db: Executor, slug: string, userId: string): Promise<MembershipRow | undefined> {
  const row = await db
    .selectFrom('workspace_memberships')
    .select(['workspace_id', 'role', 'created_at'])
    .where('workspace_slug', '=', slug)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { workspaceId: row.workspace_id, role: row.role, since: row.created_at } : undefined;
}

export async function countAdmins(db: Executor, slug: string): Promise<number> {
  const { admins } = await db
    .selectFrom('workspace_memberships')
    .select((eb) => eb.fn.countAll<string>().as('admins'))
    .where('workspace_slug', '=', slug)
    .where('role', '=', 'ADMIN')
    .executeTakeFirstOrThrow();
  return Number(admins);
}

/** A workspace membership knows of: one with at least one member (every workspace gets its creator). */
export async function hasMembers(db: Executor, slug: string): Promise<boolean> {
  const row = await db.selectFrom('workspace_memberships').select('user_id').where('workspace_slug', '=', slug).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Re-checks, under the workspace's lock, that a caller the gateway resolved as
 * a member with `members:manage` still has it: when two Admins demote each
 * other at once, the one demoted first must not go on to act. Organization
 * Owners and Admins act as Admin whatever their membership.
 */
export async function assertStillManages(trx: Transaction<MembershipDatabase>, caller: UserCaller, slug: string): Promise<void> {
  if (caller.workspace?.source === 'organization') return;
  const membership = await findMembership(trx, slug, caller.userId);
  if (!membership) throw httpError('workspace_not_found');
  if (!roleHasPermission(membership.role, 'members:manage')) {
    throw httpError('forbidden', `Your role in this workspace is now ${membership.role}, which does not grant members:manage.`);
  }
}
