import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // A refresh-token family (one sign-in) has one absolute lifetime and is revoked as a whole; rows of
  // the family only record which tokens were used. Revocation held per family cannot be missed by a
  // token that a concurrent refresh inserts while the family is being revoked.
  await db.schema
    .createTable('refresh_families')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    insert into refresh_families (id, user_id, expires_at, revoked_at, created_at)
    select family_id, (array_agg(user_id))[1], max(expires_at), max(revoked_at), min(created_at)
    from refresh_tokens group by family_id
  `.execute(db);
  await db.schema
    .alterTable('refresh_tokens')
    .addForeignKeyConstraint('refresh_tokens_family_fk', ['family_id'], 'refresh_families', ['id'], (c) => c.onDelete('cascade'))
    .execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('revoked_at').execute();

  await db.schema
    .createTable('personal_access_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('full', 'read-only')`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('personal_access_tokens_user').on('personal_access_tokens').column('user_id').execute();

  // Per-address budgets moved to the gateway; their counters mean nothing any more.
  await db.deleteFrom('login_failures').where('key', 'like', 'address:%').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('personal_access_tokens').execute();
  await db.schema.alterTable('refresh_tokens').addColumn('revoked_at', 'timestamptz').execute();
  await sql`update refresh_tokens t set revoked_at = f.revoked_at from refresh_families f where f.id = t.family_id`.execute(db);
  await db.schema.alterTable('refresh_tokens').dropConstraint('refresh_tokens_family_fk').execute();
  await db.schema.dropTable('refresh_families').execute();
}
