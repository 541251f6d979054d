/**
 * Provisioning: gives each service that has a database its own PostgreSQL login
 * role, owner of its schema and of nothing else (see ensureServiceRole). Runs
 * with the superuser, before the migrations; `npm start` runs it every time
 * (it changes nothing when all is in place), and it is usable as is in
 * production (docs/operations.md).
 *
 * Each service's role and password are read from the URL the service itself
 * will use (`<SERVICE>_DATABASE_URL`), so the two cannot disagree.
 */
import { serviceNames, serviceRegistry } from '@hexa/contract';
import { configOrExit, databaseLogin, databaseSchemaConfig, ensureServiceRole, loadConfig, url, type ConfigField } from '@hexa/kit';

const services = serviceNames.filter((service) => serviceRegistry[service].database);
const databaseUrl = (description: string) => url(description, { protocols: ['postgres', 'postgresql'], secret: true });
const config = configOrExit('provisioning', () =>
  loadConfig({
    HEXA_ADMIN_DATABASE_URL: databaseUrl('superuser connection to the platform database; used for provisioning only'),
    ...(Object.fromEntries(
      services.flatMap((service) => [
        [`${service.toUpperCase()}_DATABASE_URL`, databaseUrl(`${service}'s DATABASE_URL: its role, password and database`)],
        [`${service.toUpperCase()}_DATABASE_SCHEMA`, databaseSchemaConfig(service)],
      ]),
    ) as Record<string, ConfigField<string>>),
  }),
) as Record<string, string>;

const adminDatabase = databaseLogin(config.HEXA_ADMIN_DATABASE_URL!).database;
try {
  for (const service of services) {
    const serviceUrl = config[`${service.toUpperCase()}_DATABASE_URL`]!;
    const schema = config[`${service.toUpperCase()}_DATABASE_SCHEMA`]!;
    const login = databaseLogin(serviceUrl);
    // The schema is made in the admin connection's database; a service looking elsewhere would not find it.
    if (login.database !== adminDatabase) throw new Error(`${service}'s database ${login.database} is not the provisioned database ${adminDatabase}`);
    const report = await ensureServiceRole({ adminUrl: config.HEXA_ADMIN_DATABASE_URL!, role: login.role, password: login.password, schema });
    console.log(`${service}: role ${report.role} owns schema ${report.schema} in ${report.database}${report.changes.length ? `: ${report.changes.join('; ')}` : ' (nothing to change)'}`);
  }
} catch (error) {
  // The message names roles and schemas, never a password.
  console.error(`provisioning: ${(error as Error).message}`);
  process.exit(1);
}
