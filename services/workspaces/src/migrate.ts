import { createDatabase, migrateToLatest } from '@hexa/kit';
import { loadWorkspacesConfig } from './config.js';
import { migrations } from './migrations/index.js';

// Applies the workspaces schema's migrations, then exits.
const config = loadWorkspacesConfig({ HEXA_INTERNAL_SECRET: 'not-used-by-migrations-but-required-0123', ...process.env });
const db = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
try {
  const applied = await migrateToLatest(db, config.DATABASE_SCHEMA, migrations);
  console.log(`workspaces: ${applied.length} migration(s) applied${applied.length ? `: ${applied.join(', ')}` : ''}`);
} finally {
  await db.destroy();
}
