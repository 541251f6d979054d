import { jobKeyOf, type Processors } from '@hexa/kit';
import type { AuditService } from './modules/audit/audit-service.js';
import type { ProvisioningService } from './modules/provisioning/provisioning-service.js';

/** The workspaces queue's processors: thin adapters over the services. */
export function workspacesProcessors(deps: { audit: AuditService; provisioning: ProvisioningService }): Processors<'workspaces'> {
  return {
    'audit.recorded': async (payload) => deps.audit.keep(payload),
    'database.status-changed': async (payload, job) => deps.provisioning.applyDatabaseStatus(payload, jobKeyOf(job)),
  };
}
