export { buildDatabasesApp } from './app.js';
export { loadDatabasesConfig, type DatabasesConfig } from './config.js';
export type { DatabasesDatabase } from './database.js';
export { migrations as databasesMigrations } from './migrations/index.js';
export { createDatabasesWorker, type DatabasesWorker } from './worker-runtime.js';
export { ensureClusterAdmin } from './modules/cluster/cluster-admin.js';
export { databaseNamesFor, generatePassword } from './modules/cluster/cluster-fns.js';
export { createWorkspaceCluster } from './modules/cluster/workspace-cluster.js';
