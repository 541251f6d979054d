import { runMigrations } from '@hexa/kit';
import { migrations } from './migrations/index.js';

// Applies the files schema's migrations, then exits.
await runMigrations('files', migrations);
