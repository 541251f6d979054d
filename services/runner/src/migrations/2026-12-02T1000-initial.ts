import { sql, type Kysely } from 'kysely';
import { createIdempotencyTable, createInboxTable, createOutboxTable, upgradeOutboxTableToDeadLetters } from '@hexa/kit';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await createOutboxTable(db);
  await upgradeOutboxTableToDeadLetters(db);
  await createInboxTable(db);
  await createIdempotencyTable(db);

  await db.schema
    .createTable('pipelines')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('workspace_slug', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('command', 'jsonb', (c) => c.notNull())
    .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('cpus', 'double precision', (c) => c.notNull())
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('pipelines_pk', ['workspace_id', 'code'])
    .execute();
  await sql`create index pipelines_slug on pipelines (workspace_slug, code)`.execute(db);

  await db.schema
    .createTable('runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('workspace_slug', 'text', (c) => c.notNull())
    .addColumn('pipeline_code', 'text', (c) => c.notNull())
    .addColumn('command', 'jsonb', (c) => c.notNull())
    .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('cpus', 'double precision', (c) => c.notNull())
    .addColumn('parameters', 'jsonb', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('queued', 'running', 'succeeded', 'failed', 'canceled', 'timed_out')`))
    .addColumn('exit_code', 'integer')
    .addColumn('reason', 'text')
    .addColumn('launched_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('container_id', 'text')
    .addColumn('token_hash', 'text', (c) => c.unique())
    .addColumn('cancel_requested_at', 'timestamptz')
    .addColumn('cancel_reason', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index runs_workspace on runs (workspace_slug, created_at desc)`.execute(db);
  // The scheduler's question: which runs wait, and which are live?
  await sql`create index runs_live on runs (workspace_id, created_at) where status in ('queued', 'running')`.execute(db);

  await db.schema
    .createTable('run_logs')
    .addColumn('run_id', 'uuid', (c) => c.primaryKey().references('runs.id').onDelete('cascade'))
    .addColumn('text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('truncated', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('consumed', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['run_logs', 'runs', 'pipelines', 'idempotency_keys', 'inbox', 'outbox']) {
    await db.schema.dropTable(table).execute();
  }
}
