import { runMigrations } from '@hexa/kit';
import { migrations } from './migrations/index.js';

// Applies the workspaces schema's migrations, then exits.
await runMigrations('workspaces', migrations);
