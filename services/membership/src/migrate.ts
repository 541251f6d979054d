import { runMigrations } from '@hexa/kit';
import { migrations } from './migrations/index.js';

// Applies the membership schema's migrations, then exits.
await runMigrations('membership', migrations);
