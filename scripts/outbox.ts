/**
 * The operator's view of a service's outbox: the jobs the relay gave up on
 * (dead rows), with their reason, and a way to send one again once the cause
 * is fixed.
 *
 *   pnpm outbox <service> dead            list dead jobs (JSON lines)
 *   pnpm outbox <service> retry <id>      give a dead job a fresh start
 *
 * Connects with DATABASE_URL (the service's own login in production; the local
 * superuser by default) to the service's schema (DATABASE_SCHEMA, default the
 * service's name).
 */
import { serviceNames, serviceRegistry, type ServiceName } from '@hexa/contract';
import { commonConfig, configOrExit, createDatabase, databaseSchemaConfig, listDeadJobs, loadConfig, retryDeadJob, type OutboxDatabase } from '@hexa/kit';

const [service, command, id] = process.argv.slice(2);
const usage = `usage: pnpm outbox <${serviceNames.filter((name) => serviceRegistry[name].database).join('|')}> dead | retry <id>`;
if (!service || !serviceNames.includes(service as ServiceName) || !serviceRegistry[service as ServiceName].database || !['dead', 'retry'].includes(command ?? '') || (command === 'retry' && !id)) {
  console.error(usage);
  process.exit(2);
}
const config = configOrExit('outbox', () => loadConfig({ DATABASE_URL: commonConfig.DATABASE_URL, DATABASE_SCHEMA: databaseSchemaConfig(service) }));
const db = createDatabase<OutboxDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
try {
  if (command === 'dead') {
    for (const job of await listDeadJobs(db)) console.log(JSON.stringify(job));
  } else if (await retryDeadJob(db, id!)) {
    console.log(`outbox: job ${id} of ${service} will be sent again on the relay's next pass`);
  } else {
    console.error(`outbox: ${service} has no dead job ${id}`);
    process.exitCode = 1;
  }
} finally {
  await db.destroy();
}
