import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // The version of every membership.changed event: one sequence for the whole platform's memberships, so
  // a later change of the same membership always carries a larger number (the replica keeps the newest).
  await sql`create sequence membership_change_version`.execute(db);

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('workspace_slug', 'text', (c) => c.notNull())
    .addColumn('workspace_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('VIEWER', 'EDITOR', 'ADMIN')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('PENDING', 'ACCEPTED', 'DECLINED', 'EXPIRED', 'REVOKED')`))
    .addColumn('invited_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', 'text', (c) => c.unique())
    .addColumn('send_count', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('responded_at', 'timestamptz')
    .addColumn('mail_status', 'text', (c) => c.notNull().defaultTo('queued').check(sql`mail_status in ('queued', 'sent', 'failed')`))
    .addColumn('mail_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('mail_error', 'text')
    .addColumn('mail_last_attempt_at', 'timestamptz')
    .addColumn('mail_sent_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // At most one pending invitation per person and workspace, whatever races: the second insert fails.
  await sql`create unique index invitations_one_pending on invitations (workspace_slug, email) where status = 'PENDING'`.execute(db);
  await sql`create index invitations_workspace on invitations (workspace_slug, created_at desc, id)`.execute(db);
  await sql`create index invitations_inviter_pending on invitations (workspace_slug, invited_by) where status = 'PENDING'`.execute(db);
  await sql`create index invitations_email_pending on invitations (email) where status = 'PENDING'`.execute(db);
  await sql`create index invitations_expiry on invitations (expires_at) where status = 'PENDING'`.execute(db);

  await db.schema
    .createTable('invitation_sends')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('workspace_slug', 'text', (c) => c.notNull())
    .addColumn('invitation_id', 'uuid', (c) => c.notNull().references('invitations.id').onDelete('cascade'))
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('invitation_sends_workspace').on('invitation_sends').columns(['workspace_slug', 'sent_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('invitation_sends').execute();
  await db.schema.dropTable('invitations').execute();
  await sql`drop sequence membership_change_version`.execute(db);
}
