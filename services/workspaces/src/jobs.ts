import { jobKeyOf, type Processors } from '@hexa/kit';
import type { AuditService } from './modules/audit/audit-service.js';
import type { MemberRolesService } from './modules/members/member-roles-service.js';
import type { ProvisioningService } from './modules/provisioning/provisioning-service.js';

/** The workspaces queue's processors: thin adapters over the services. */
export function workspacesProcessors(deps: { audit: AuditService; provisioning: ProvisioningService; memberRoles: MemberRolesService }): Processors<'workspaces'> {
  return {
    'membership.changed': async (payload) => deps.memberRoles.apply(payload),
    'audit.recorded': async (payload) => deps.audit.keep(payload),
    'database.status-changed': async (payload, job) => deps.provisioning.applyDatabaseStatus(payload, jobKeyOf(job)),
  };
}
