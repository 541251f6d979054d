import { configOrExit, createDatabase } from '@hexa/kit';
import { loadFilesConfig } from './config.js';
import type { FilesDatabase } from './database.js';
import { createConnectionsService } from './modules/connections/connections-service.js';

// After a new key was put in front of HEXA_CONNECTIONS_ENCRYPTION_KEY (`k2:<new>,k1:<old>`): seals every
// connection secret that an older key sealed again under the current key, then exits. Once it reports
// 0 left, the old key can leave the setting. Values never leave the process.
const config = configOrExit('files re-encryption', loadFilesConfig);
const db = createDatabase<FilesDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
try {
  const connections = createConnectionsService({
    db,
    directory: { describe: () => Promise.reject(new Error('not needed to re-encrypt')) },
    keyring: config.HEXA_CONNECTIONS_ENCRYPTION_KEY,
    testTimeoutMs: config.CONNECTION_TEST_TIMEOUT_MS,
  });
  const changed = await connections.reencryptAll();
  console.log(`files: ${changed} connection(s) sealed again under key ${config.HEXA_CONNECTIONS_ENCRYPTION_KEY.currentId}`);
} finally {
  await db.destroy();
}
