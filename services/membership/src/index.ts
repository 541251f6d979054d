export { buildMembershipApp, type MembershipAppDeps } from './app.js';
export { loadMembershipConfig, type MembershipConfig } from './config.js';
export type { MembershipDatabase } from './database.js';
export { migrations as membershipMigrations } from './migrations/index.js';
export { membershipProcessors } from './jobs.js';
export { createMembershipWorker, type MembershipWorker } from './membership-worker.js';
export { createMembershipsService } from './modules/memberships/memberships-service.js';
export { createUsersService } from './modules/users/users-service.js';
export { verifyPassword, type PasswordVerifier } from './modules/users/passwords.js';
