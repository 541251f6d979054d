/**
 * Provisioning: gives each service that has a database its own PostgreSQL login
 * role, owner of its schema and of nothing else (see ensureServiceRole). Runs
 * with the superuser, before the migrations; `npm start` runs it every time
 * (it changes nothing when all is in place), and it is usable as is in
 * production (docs/operations.md).
 *
 * Each service's role and password are read from the URL the service itself
 * will use, so the two cannot disagree.
 */
import { configOrExit, databaseLogin, databaseSchemaConfig, ensureServiceRole, loadConfig, url } from '../../packages/kit/src/index.js';

// The services that own a schema. Later: databases, runner.
const services = ['membership', 'workspaces'] as const;

const databaseUrl = (description: string) => url(description, { protocols: ['postgres', 'postgresql'], secret: true });
const config = configOrExit('provisioning', () =>
  loadConfig({
    HEXA_ADMIN_DATABASE_URL: databaseUrl('superuser connection to the platform database; used for provisioning only'),
    MEMBERSHIP_DATABASE_URL: databaseUrl("membership's DATABASE_URL: its role, password and database"),
    MEMBERSHIP_DATABASE_SCHEMA: databaseSchemaConfig('membership'),
    WORKSPACES_DATABASE_URL: databaseUrl("workspaces' DATABASE_URL: its role, password and database"),
    WORKSPACES_DATABASE_SCHEMA: databaseSchemaConfig('workspaces'),
  }),
);

const settings = {
  membership: { url: config.MEMBERSHIP_DATABASE_URL, schema: config.MEMBERSHIP_DATABASE_SCHEMA },
  workspaces: { url: config.WORKSPACES_DATABASE_URL, schema: config.WORKSPACES_DATABASE_SCHEMA },
} satisfies Record<(typeof services)[number], { url: string; schema: string }>;

const adminDatabase = databaseLogin(config.HEXA_ADMIN_DATABASE_URL).database;
try {
  for (const service of services) {
    const { url: serviceUrl, schema } = settings[service];
    const login = databaseLogin(serviceUrl);
    // The schema is made in the admin connection's database; a service looking elsewhere would not find it.
    if (login.database !== adminDatabase) throw new Error(`${service}'s database ${login.database} is not the provisioned database ${adminDatabase}`);
    const report = await ensureServiceRole({ adminUrl: config.HEXA_ADMIN_DATABASE_URL, role: login.role, password: login.password, schema });
    console.log(`${service}: role ${report.role} owns schema ${report.schema} in ${report.database}${report.changes.length ? `: ${report.changes.join('; ')}` : ' (nothing to change)'}`);
  }
} catch (error) {
  // The message names roles and schemas, never a password.
  console.error(`provisioning: ${(error as Error).message}`);
  process.exit(1);
}
