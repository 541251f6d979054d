import { createDatabase, migrateToLatest } from '@hexa/kit';
import { loadMembershipConfig } from './config.js';
import { migrations } from './migrations/index.js';

// Applies the membership schema's migrations, then exits.
const config = loadMembershipConfig({ HEXA_INTERNAL_SECRET: 'not-used-by-migrations-but-required-0123', HEXA_JWT_PRIVATE_KEY: 'BEGIN PRIVATE KEY', ...process.env });
const db = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
try {
  const applied = await migrateToLatest(db, config.DATABASE_SCHEMA, migrations);
  console.log(`membership: ${applied.length} migration(s) applied${applied.length ? `: ${applied.join(', ')}` : ''}`);
} finally {
  await db.destroy();
}
