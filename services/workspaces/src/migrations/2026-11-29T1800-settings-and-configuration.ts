import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.

/** The search fold as of this migration (a copy: migrations never import application code). */
function fold(text: string): string {
  const foldings: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i' };
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[ßæœøđðłþı]/g, (letter) => foldings[letter] ?? letter)
    .replace(/\s+/g, ' ')
    .trim();
}

export async function up(db: Kysely<any>): Promise<void> {
  // Search and sort on a folded copy of the name, compared byte-wise ("C"): accents and case are folded
  // by the service (PostgreSQL's unaccent is an extension the service's role may not create, and it is
  // not immutable, so it could not be indexed anyway).
  await sql`alter table workspaces add column search_name text collate "C"`.execute(db);
  const rows = await db.selectFrom('workspaces').select(['id', 'name']).execute();
  for (const row of rows as { id: string; name: string }[]) {
    await db.updateTable('workspaces').set({ search_name: fold(row.name) }).where('id', '=', row.id).execute();
  }
  await sql`alter table workspaces alter column search_name set not null`.execute(db);
  await sql`drop index workspaces_name`.execute(db);
  await sql`create index workspaces_active_by_name on workspaces (search_name, slug) where archived_at is null`.execute(db);
  await sql`create index workspaces_archived_by_name on workspaces (search_name, slug) where archived_at is not null`.execute(db);

  // The home page rendered when it was written, and the renderer's version then: null for existing pages,
  // which are rendered when first read.
  await sql`alter table workspaces add column description_html text`.execute(db);
  await sql`alter table workspaces add column description_html_version integer`.execute(db);

  // Null: the platform's default image.
  await sql`alter table workspaces add column docker_image text check (docker_image is null or (length(docker_image) between 1 and 255))`.execute(db);

  await db.schema
    .createTable('workspace_configurations')
    .addColumn('workspace_id', 'uuid', (c) => c.primaryKey().references('workspaces.id'))
    .addColumn('properties', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`).check(sql`jsonb_typeof(properties) = 'object'`))
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`insert into workspace_configurations (workspace_id) select id from workspaces`.execute(db);

  // Until membership publishes its memberships, the replica knows each creator as the first Admin (version
  // 0: any membership.changed event, versions 1 and up, overrides it).
  await sql`insert into member_roles (workspace_id, user_id, role, version) select id, created_by, 'ADMIN', 0 from workspaces on conflict do nothing`.execute(db);
}
