import { sql, type Kysely } from 'kysely';
import { createIdempotencyTable, createOutboxTable, upgradeOutboxTableToDeadLetters } from '@hexa/kit';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await createOutboxTable(db);
  await upgradeOutboxTableToDeadLetters(db);
  await createIdempotencyTable(db);

  await db.schema
    .createTable('connections')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('POSTGRESQL', 'S3', 'GCS', 'DHIS2', 'IASO', 'CUSTOM')`))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('fields', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('connections_workspace_slug', ['workspace_id', 'slug'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['connections', 'idempotency_keys', 'outbox']) await db.schema.dropTable(table).execute();
}
