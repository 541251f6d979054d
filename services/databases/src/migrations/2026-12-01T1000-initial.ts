import { sql, type Kysely } from 'kysely';
import { createIdempotencyTable, createInboxTable, createOutboxTable, upgradeOutboxTableToDeadLetters } from '@hexa/kit';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await createOutboxTable(db);
  await upgradeOutboxTableToDeadLetters(db);
  await createInboxTable(db);
  await createIdempotencyTable(db);

  await db.schema
    .createTable('workspace_databases')
    .addColumn('workspace_id', 'uuid', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('provisioning', 'ready', 'failed')`))
    .addColumn('status_reason', 'text')
    .addColumn('database_name', 'text', (c) => c.notNull().unique())
    .addColumn('owner_role', 'text', (c) => c.notNull().unique())
    .addColumn('reader_role', 'text', (c) => c.notNull().unique())
    .addColumn('owner_password', 'text', (c) => c.notNull())
    .addColumn('reader_password', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ready_at', 'timestamptz')
    .addColumn('archived_at', 'timestamptz')
    .execute();
  // The reconciler's question: which provisioning has made no progress lately?
  await sql`create index workspace_databases_provisioning on workspace_databases (updated_at) where status = 'provisioning'`.execute(db);

  await db.schema
    .createTable('provisioning_steps')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspace_databases.workspace_id').onDelete('cascade'))
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('provisioning_steps_pk', ['workspace_id', 'step'])
    .execute();

  await db.schema
    .createTable('password_rotations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspace_databases.workspace_id'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'running', 'succeeded', 'failed')`))
    .addColumn('requested_by', 'uuid', (c) => c.notNull())
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addColumn('failure_reason', 'text')
    .addColumn('new_password', 'text')
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  // One rotation at a time per workspace: a second one while the first is pending or running is refused by the database itself.
  await sql`create unique index password_rotations_one_at_a_time on password_rotations (workspace_id) where status in ('pending', 'running')`.execute(db);
  await sql`create index password_rotations_workspace on password_rotations (workspace_id, requested_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['password_rotations', 'provisioning_steps', 'workspace_databases', 'idempotency_keys', 'inbox', 'outbox']) {
    await db.schema.dropTable(table).execute();
  }
}
