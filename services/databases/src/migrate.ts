import { runMigrations } from '@hexa/kit';
import { migrations } from './migrations/index.js';

// Applies the databases schema's migrations, then exits.
await runMigrations('databases', migrations);
