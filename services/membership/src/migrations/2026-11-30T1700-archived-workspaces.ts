import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
// The workspaces that are archived, as membership last heard from the workspaces service: the access it
// answers the gateway says so, and the gateway hides them from their members.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('archived_workspaces')
    .addColumn('workspace_slug', 'text', (column) => column.primaryKey())
    .addColumn('recorded_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .execute();
}
