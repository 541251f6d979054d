import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { JobPayload, Schemas } from '@hexa/contract';
import { auditActor, enqueueJob, httpError, isUniqueViolation, recordAudit, type UserCaller } from '@hexa/kit';
import type { DatabasesDatabase } from '../../database.js';
import { generatePassword } from '../cluster/cluster-fns.js';
import type { WorkspaceCluster } from '../cluster/workspace-cluster.js';
import { withWorkspaceLock } from '../cluster/workspace-lock.js';
import { describeFailure } from '../provisioning/provisioning-fns.js';
import { findWorkspaceDatabase, getWorkspaceDatabaseBySlug } from '../provisioning/provisioning-repository.js';
import type { Attempt } from '../provisioning/provisioning-service.js';
import type { Secrets } from '../secrets/secrets.js';
import { findRotation, stalledRotations, toRotation, type RotationRow } from './rotations-repository.js';

const databasesActor = { kind: 'service', service: 'databases' } as const;

/**
 * Password regeneration: an Admin requests it (one at a time per workspace),
 * a queued job sets the new password and records it as the login's at once
 * (the cluster has it from then on), ends the login's sessions, proves the new
 * password signs in, and only then says `succeeded`.
 */
export function createRotationsService(deps: {
  db: Kysely<DatabasesDatabase>;
  secrets: Secrets;
  cluster?: WorkspaceCluster;
  log: { info(object: object, message: string): void; warn(object: object, message: string): void };
}) {
  const { db, secrets, log } = deps;

  async function finish(rotation: RotationRow, slug: string, status: 'succeeded' | 'failed', reason?: string): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('password_rotations')
        .set({ status, failure_reason: reason ?? null, new_password: null, completed_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', rotation.id)
        .execute();
      await recordAudit(trx, { workspaceId: rotation.workspace_id, workspaceSlug: slug, actor: databasesActor, action: `database.password-rotation-${status}`, target: rotation.id });
    });
  }

  async function rotate(rotationId: string): Promise<void> {
    const cluster = deps.cluster;
    if (!cluster) throw new Error('Rotations run in the worker, which has the workspace cluster');
    const rotation = await findRotation(db, rotationId);
    if (!rotation || rotation.status === 'succeeded' || rotation.status === 'failed') return;
    const row = await findWorkspaceDatabase(db, rotation.workspace_id);
    if (!row || row.archived_at || row.status !== 'ready') {
      if (row) await finish(rotation, row.slug, 'failed', 'The database was archived or is not ready');
      return;
    }
    // The new password is chosen once and kept (encrypted) with the rotation: a retry sets the same one.
    let password: string;
    if (rotation.new_password) {
      password = secrets.open(rotation.new_password, { rotationId });
    } else {
      password = generatePassword();
      await db
        .updateTable('password_rotations')
        .set({ status: 'running', new_password: secrets.seal(password, { rotationId }), updated_at: sql<Date>`now()` })
        .where('id', '=', rotationId)
        .execute();
    }
    await cluster.setPassword(row.owner_role, password);
    // The cluster has the new password from here on: the credentials (and runs) must hand it out even if
    // what follows fails. The rotation keeps it too, so that a retry or the reconciler sets the same one.
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('workspace_databases')
        .set({ owner_password: secrets.seal(password, { workspaceId: row.workspace_id, login: 'owner' }), updated_at: sql<Date>`now()` })
        .where('workspace_id', '=', row.workspace_id)
        .execute();
      await trx.updateTable('password_rotations').set({ updated_at: sql<Date>`now()` }).where('id', '=', rotationId).execute();
    });
    const ended = await cluster.endSessions([row.owner_role]);
    await cluster.checkLogin(row.database_name, row.owner_role, password);
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('password_rotations')
        .set({ status: 'succeeded', new_password: null, completed_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', rotationId)
        .execute();
      await recordAudit(trx, { workspaceId: row.workspace_id, workspaceSlug: row.slug, actor: databasesActor, action: 'database.password-rotation-succeeded', target: rotationId });
    });
    log.info({ workspaceId: row.workspace_id, rotationId, endedSessions: ended }, 'database password rotated');
  }

  return {
    /**
     * Requests a rotation: refused while another is pending or running (the
     * database's unique index decides races). `inTransaction` sees the new
     * rotation in the requesting transaction: the idempotent answer commits
     * with it.
     */
    async request(
      caller: UserCaller,
      slug: string,
      inTransaction?: (trx: Transaction<DatabasesDatabase>, rotation: Schemas['PasswordRotation']) => Promise<void>,
    ): Promise<Schemas['PasswordRotation']> {
      const row = await getWorkspaceDatabaseBySlug(db, slug);
      if (row.status !== 'ready') throw httpError('database_not_ready', `The workspace's database is ${row.status}; its password can be regenerated once it is ready.`);
      const id = randomUUID();
      try {
        return await db.transaction().execute(async (trx) => {
          const rotation = toRotation(
            await trx
              .insertInto('password_rotations')
              .values({ id, workspace_id: row.workspace_id, status: 'pending', requested_by: caller.userId, completed_at: null, failure_reason: null, new_password: null })
              .returningAll()
              .executeTakeFirstOrThrow(),
          );
          await enqueueJob(trx, 'databases', 'password-rotation.requested', { workspaceId: row.workspace_id, rotationId: id }, `password-rotation.requested-${id}-1`);
          await recordAudit(trx, { workspaceId: row.workspace_id, workspaceSlug: row.slug, actor: auditActor(caller), action: 'database.password-rotation-requested', target: id });
          if (inTransaction) await inTransaction(trx, rotation);
          return rotation;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'password_rotations_one_at_a_time')) {
          throw httpError('password_rotation_in_progress', 'Another password rotation of this database is pending or running; wait until it ends.');
        }
        throw error;
      }
    },

    async get(slug: string, id: string): Promise<Schemas['PasswordRotation']> {
      const row = await getWorkspaceDatabaseBySlug(db, slug);
      const rotation = await findRotation(db, id);
      if (!rotation || rotation.workspace_id !== row.workspace_id) throw httpError('not_found', 'No such password rotation in this workspace.');
      return toRotation(rotation);
    },

    /** The job: rotates under the workspace's lock; a failure retries, and the last attempt records it. */
    async run(payload: JobPayload<'databases', 'password-rotation.requested'>, attempt: Attempt): Promise<void> {
      try {
        await withWorkspaceLock(db, payload.workspaceId, () => rotate(payload.rotationId));
      } catch (error) {
        const failure = describeFailure(error);
        log.warn({ rotationId: payload.rotationId, err: error, retryable: failure.retryable }, 'password rotation attempt failed');
        if (attempt.final || !failure.retryable) {
          const rotation = await findRotation(db, payload.rotationId).catch(() => undefined);
          const row = rotation ? await findWorkspaceDatabase(db, rotation.workspace_id).catch(() => undefined) : undefined;
          // Once the cluster took the new password, the stored one is it (see `rotate`); the new password is no
          // longer needed. The failed step's reason says what to fix before requesting another rotation.
          if (rotation && row) await finish(rotation, row.slug, 'failed', `${failure.reason}; request another rotation`).catch(() => undefined);
        }
        throw failure.retryable ? new Error(failure.reason) : httpError('conflict', failure.reason);
      }
    },

    /** Queues again each rotation without progress for `stalledAfterMs` and without a live job. */
    async reconcile(options: { stalledAfterMs: number; hasLiveJob: (jobIds: string[]) => Promise<boolean>; limit?: number }): Promise<number> {
      const rows = await stalledRotations(db, new Date(Date.now() - options.stalledAfterMs), options.limit ?? 100);
      let requeued = 0;
      for (const row of rows) {
        if (await options.hasLiveJob([`password-rotation.requested-${row.id}-${row.generation}`])) continue;
        const bumped = await db.transaction().execute(async (trx) => {
          const next = await trx
            .updateTable('password_rotations')
            .set({ generation: sql<number>`generation + 1`, updated_at: sql<Date>`now()` })
            .where('id', '=', row.id)
            .where('status', 'in', ['pending', 'running'])
            .where('generation', '=', row.generation)
            .returning('generation')
            .executeTakeFirst();
          if (next) await enqueueJob(trx, 'databases', 'password-rotation.requested', { workspaceId: row.workspace_id, rotationId: row.id }, `password-rotation.requested-${row.id}-${next.generation}`);
          return next;
        });
        if (bumped) {
          requeued += 1;
          log.warn({ rotationId: row.id }, 'password rotation had no job: queued again');
        }
      }
      return requeued;
    },
  };
}

export type RotationsService = ReturnType<typeof createRotationsService>;
