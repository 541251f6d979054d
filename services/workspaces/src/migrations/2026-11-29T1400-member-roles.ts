import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // A replica of membership's roles, fed by membership.changed events, for listing a user's workspaces
  // in one indexed query. A removed member stays as a row with a null role, so that an older event
  // arriving late cannot bring the role back.
  await db.schema
    .createTable('member_roles')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.check(sql`role in ('VIEWER', 'EDITOR', 'ADMIN')`))
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('member_roles_pk', ['workspace_id', 'user_id'])
    .execute();
  await sql`create index member_roles_user on member_roles (user_id, workspace_id) where role is not null`.execute(db);
}
