/**
 * Sets up the platform's admin login on the workspace cluster (`LOGIN CREATEDB
 * CREATEROLE`, not a superuser) with the role and password of
 * HEXA_WORKSPACE_DB_ADMIN_URL, as a superuser of that cluster. `npm start`
 * runs it before the migrations; it changes nothing when all is in place.
 * Production runs the SQL of docs/operations.md once instead.
 */
import { configOrExit, databaseLogin, loadConfig, url } from '@hexa/kit';
import { ensureClusterAdmin } from './modules/cluster/cluster-admin.js';

const databaseUrl = (description: string, defaultUrl?: string) =>
  url(description, { protocols: ['postgres', 'postgresql'], secret: true, ...(defaultUrl ? { default: defaultUrl } : {}) });
const config = configOrExit('workspace cluster set-up', () =>
  loadConfig({
    HEXA_WORKSPACE_DB_SUPERUSER_URL: databaseUrl('a superuser of the workspace cluster (set-up only)', 'postgres://postgres@localhost:5433/postgres?host=/var/run/postgresql'),
    HEXA_WORKSPACE_DB_ADMIN_URL: databaseUrl("the databases service's admin login: its role and password"),
  }),
);

try {
  const login = databaseLogin(config.HEXA_WORKSPACE_DB_ADMIN_URL);
  const changes = await ensureClusterAdmin({ superuserUrl: config.HEXA_WORKSPACE_DB_SUPERUSER_URL, role: login.role, password: login.password });
  console.log(`workspace cluster: admin login ${login.role}${changes.length ? `: ${changes.join('; ')}` : ' (nothing to change)'}`);
} catch (error) {
  // The message names roles and databases, never a password.
  console.error(`workspace cluster set-up: ${(error as Error).message}`);
  process.exit(1);
}
