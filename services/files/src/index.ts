export { buildFilesApp } from './app.js';
export { loadFilesConfig, type FilesConfig } from './config.js';
export type { FilesDatabase } from './database.js';
export { migrations as filesMigrations } from './migrations/index.js';
export { createConnectionsService } from './modules/connections/connections-service.js';
export { createLocalStorage, type FileStorage } from './modules/files/files-storage.js';
export { createWorkspaceDirectory } from './modules/workspaces/workspace-directory.js';
export { envNameOf } from './modules/connections/connections-fns.js';
