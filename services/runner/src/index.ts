export { buildRunnerApp } from './app.js';
export { loadRunnerConfig, runnerConfigEnv, type RunnerConfig } from './config.js';
export type { RunnerDatabase } from './database.js';
export { migrations as runnerMigrations } from './migrations/index.js';
export { createRunnerWorker, type RunnerWorker } from './worker-runtime.js';
