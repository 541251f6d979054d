import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // The names (never the values) of the run's environment variables whose values are masked in its
  // output: a worker that adopts the container after a restart reads the values back from it.
  await sql`alter table runs add column masked_variables text[] not null default '{}'`.execute(db);
}
