import { sql, type Kysely, type Selectable } from 'kysely';
import type { WorkspacesDatabase, WorkspacesTable } from '../../database.js';

export type WorkspaceRow = Selectable<WorkspacesTable>;

export async function findActiveWorkspace(db: Kysely<WorkspacesDatabase>, slug: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('slug', '=', slug).where('archived_at', 'is', null).executeTakeFirst();
}

export async function insertWorkspace(
  db: Kysely<WorkspacesDatabase>,
  values: { slug: string; name: string; description: string; countries: string[]; createdBy: string },
): Promise<WorkspaceRow> {
  return db
    .insertInto('workspaces')
    .values({
      slug: values.slug,
      name: values.name,
      description: values.description,
      countries: values.countries,
      status: 'provisioning',
      status_reason: null,
      created_by: values.createdBy,
      archived_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** Active workspaces, optionally limited to some slugs and filtered by name, one page sorted by name. */
export async function pageWorkspaces(
  db: Kysely<WorkspacesDatabase>,
  options: { slugs?: string[]; query?: string; page: number; perPage: number },
): Promise<{ rows: WorkspaceRow[]; total: number }> {
  if (options.slugs && options.slugs.length === 0) return { rows: [], total: 0 };
  let base = db.selectFrom('workspaces').where('archived_at', 'is', null);
  if (options.slugs) base = base.where('slug', 'in', options.slugs);
  const search = options.query?.trim();
  if (search) base = base.where(sql<boolean>`name ilike ${`%${escapeLike(search)}%`}`);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy(sql`lower(name)`).orderBy('slug').limit(options.perPage).offset((options.page - 1) * options.perPage).execute(),
    base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.total) };
}
