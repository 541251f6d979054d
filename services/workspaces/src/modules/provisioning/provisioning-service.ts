import type { Kysely } from 'kysely';
import { processOnce, type JobKey } from '@hexa/kit';
import type { JobPayload } from '@hexa/contract';
import type { WorkspacesDatabase } from '../../database.js';

/** Where a workspace's database stands, as the databases service reports it. */
export function createProvisioningService(deps: { db: Kysely<WorkspacesDatabase> }) {
  return {
    /** Applies a report once (the inbox): `ready`, or `failed` with the reason users see. */
    async applyDatabaseStatus(report: JobPayload<'workspaces', 'database.status-changed'>, job: JobKey): Promise<void> {
      await processOnce(deps.db, job, async (trx) => {
        await trx
          .updateTable('workspaces')
          .set({ status: report.status, status_reason: report.status === 'failed' ? (report.reason ?? 'provisioning failed') : null, updated_at: new Date() })
          .where('id', '=', report.workspaceId)
          .execute();
      });
    },
  };
}

export type ProvisioningService = ReturnType<typeof createProvisioningService>;
