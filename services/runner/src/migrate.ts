import { runMigrations } from '@hexa/kit';
import { migrations } from './migrations/index.js';

// Applies the runner schema's migrations, then exits.
await runMigrations('runner', migrations);
