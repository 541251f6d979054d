export { buildWorkspacesApp } from './app.js';
export { loadWorkspacesConfig, type WorkspacesConfig } from './config.js';
export type { WorkspacesDatabase } from './database.js';
export { migrations as workspacesMigrations } from './migrations/index.js';
export { slugify, withRandomSuffix } from './modules/workspaces/slug-fns.js';
export { workspacesProcessors } from './jobs.js';
export { createAuditService } from './modules/audit/audit-service.js';
export { createProvisioningService } from './modules/provisioning/provisioning-service.js';
export { createMemberRolesService } from './modules/members/member-roles-service.js';
