import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // A member's list is read in name order straight from their roles: each role row carries its
  // workspace's sort key and whether it is active, so a page is the first rows of one index range
  // (a member of 5,000 workspaces costs what a member of 50 does), and counting reads that index only.
  await sql`alter table member_roles add column search_name text collate "C", add column workspace_slug text, add column active boolean`.execute(db);
  await sql`
    update member_roles m set search_name = w.search_name, workspace_slug = w.slug, active = (w.archived_at is null)
    from workspaces w where w.id = m.workspace_id
  `.execute(db);
  await sql`create index member_roles_listed on member_roles (user_id, search_name, workspace_slug) where role is not null and active`.execute(db);
  await sql`drop index member_roles_user`.execute(db);
}
