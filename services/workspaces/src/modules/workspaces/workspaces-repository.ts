import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { WorkspaceRole } from '@hexa/contract';
import type { WorkspacesDatabase, WorkspacesTable } from '../../database.js';
import { maxCountedItems } from '../../paging.js';
import { searchableName } from './search-fns.js';

export type WorkspaceRow = Selectable<WorkspacesTable>;

export async function findActiveWorkspace(db: Kysely<WorkspacesDatabase>, slug: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('slug', '=', slug).where('archived_at', 'is', null).executeTakeFirst();
}

/** The workspace, archived or not, locked until the transaction ends: changes to one workspace go one at a time. */
export async function lockWorkspace(db: Kysely<WorkspacesDatabase>, slug: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('slug', '=', slug).forUpdate().executeTakeFirst();
}

/**
 * Inserts a workspace with its empty configuration and, in the replica of
 * roles, its creator as Admin (version 0: the first membership.changed event
 * for them, version 1 or more, takes over), so it lists at once.
 */
export async function insertWorkspace(
  db: Kysely<WorkspacesDatabase>,
  values: { slug: string; name: string; description: RenderedPage; countries: string[]; createdBy: string },
): Promise<WorkspaceRow> {
  const row = await db
    .insertInto('workspaces')
    .values({
      slug: values.slug,
      name: values.name,
      search_name: searchableName(values.name),
      description: values.description.markdown,
      description_html: values.description.html,
      description_html_version: values.description.version,
      countries: values.countries,
      status: 'provisioning',
      status_reason: null,
      docker_image: null,
      created_by: values.createdBy,
      archived_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db.insertInto('workspace_configurations').values({ workspace_id: row.id, properties: '{}', version: 0 }).execute();
  await db
    .insertInto('member_roles')
    .values({ workspace_id: row.id, user_id: values.createdBy, role: 'ADMIN', version: 0, search_name: row.search_name, workspace_slug: row.slug, active: true })
    .onConflict((conflict) => conflict.columns(['workspace_id', 'user_id']).doNothing())
    .execute();
  return row;
}

/** A home page with its rendering and the renderer's version. */
export interface RenderedPage {
  markdown: string;
  html: string;
  version: number;
}

export interface WorkspaceChanges {
  name?: string;
  countries?: string[];
  dockerImage?: string | null;
  description?: RenderedPage;
  archivedAt?: Date | null;
}

export async function updateWorkspace(db: Kysely<WorkspacesDatabase>, id: string, changes: WorkspaceChanges): Promise<WorkspaceRow> {
  const row = await db
    .updateTable('workspaces')
    .set({
      ...(changes.name !== undefined ? { name: changes.name, search_name: searchableName(changes.name) } : {}),
      ...(changes.countries !== undefined ? { countries: changes.countries } : {}),
      ...(changes.dockerImage !== undefined ? { docker_image: changes.dockerImage } : {}),
      ...(changes.description !== undefined
        ? { description: changes.description.markdown, description_html: changes.description.html, description_html_version: changes.description.version }
        : {}),
      ...(changes.archivedAt !== undefined ? { archived_at: changes.archivedAt } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  // The members' lists are read in name order from their roles: a rename or an archive moves them there too
  // (and the triggers of migration 2026-11-30T1500 move the counts). Called with the workspace locked, so a
  // role being applied meanwhile (member-roles-service) is either seen here or sees this change.
  if (changes.name !== undefined || changes.archivedAt !== undefined) {
    await db.updateTable('member_roles').set({ search_name: row.search_name, active: row.archived_at === null }).where('workspace_id', '=', id).execute();
  }
  return row;
}

/**
 * Stores a fresh rendering of a page read with an older one, unless the page
 * changed meanwhile (its writer stored its own rendering) or another reader
 * stored this version already.
 */
export async function storeRendering(db: Kysely<WorkspacesDatabase>, id: string, page: RenderedPage): Promise<void> {
  await db
    .updateTable('workspaces')
    .set({ description_html: page.html, description_html_version: page.version })
    .where('id', '=', id)
    .where('description', '=', page.markdown)
    .where((eb) => eb.or([eb('description_html_version', 'is', null), eb('description_html_version', '<', page.version)]))
    .execute();
}

export type ListedWorkspace = WorkspaceRow & { role: WorkspaceRole | null };

/** Where a page starts in the name order of a list: after this workspace's folded name and slug. */
export interface ListPosition {
  searchName: string;
  slug: string;
}

/**
 * One page of the workspaces a user sees, sorted by folded name, with their
 * role from the replica (null for an organization Owner/Admin who is not a
 * member), how many match, and whether more follow. A member is read from
 * their roles (indexed by user); `everywhere` (organization Owners and
 * Admins) reads the name index. The page starts `after` a position (keyset:
 * any depth costs what the first page does) or else at `page`. Without a
 * search the total is the count the triggers keep; a search is counted up to
 * `maxCountedItems + 1`.
 */
export async function pageWorkspaces(
  db: Kysely<WorkspacesDatabase>,
  options: { userId: string; everywhere: boolean; archived: boolean; query?: string; after?: ListPosition; page: number; perPage: number },
): Promise<{ rows: ListedWorkspace[]; counted: number; more: boolean }> {
  const search = searchableName(options.query ?? '');
  const offset = options.after ? 0 : (options.page - 1) * options.perPage;
  // One row past the page says whether another page follows.
  const limit = options.perPage + 1;
  let rows: Promise<ListedWorkspace[]>;
  let counted: Promise<number>;
  if (!options.everywhere && !options.archived) {
    // A member: one range of `member_roles_listed`, already in name order; the page stops after `perPage` rows.
    let roles = db.selectFrom('member_roles as m').where('m.user_id', '=', options.userId).where('m.role', 'is not', null).where('m.active', '=', true);
    // strpos, not LIKE: the search text is taken literally (no wildcards to escape).
    if (search) roles = roles.where(sql<boolean>`strpos(m.search_name, ${search}) > 0`);
    let page = roles.innerJoin('workspaces as w', 'w.id', 'm.workspace_id').selectAll('w').select('m.role');
    if (options.after) page = page.where(sql<boolean>`(m.search_name, m.workspace_slug) > (${options.after.searchName}, ${options.after.slug})`);
    counted = search ? countUpToCap(db, roles.select(sql<number>`1`.as('one'))) : listedByUser(db, options.userId);
    rows = page.orderBy('m.search_name').orderBy('m.workspace_slug').limit(limit).offset(offset).execute();
  } else {
    // An organization Owner/Admin: the name index of every (active or archived) workspace, with their own role where they have one.
    let base = db
      .selectFrom('workspaces as w')
      .leftJoin('member_roles as m', (join) => join.onRef('m.workspace_id', '=', 'w.id').on('m.user_id', '=', options.userId).on('m.role', 'is not', null))
      .where('w.archived_at', options.archived ? 'is not' : 'is', null);
    if (!options.everywhere) base = base.where('m.role', 'is not', null);
    if (search) base = base.where(sql<boolean>`strpos(w.search_name, ${search}) > 0`);
    let page = base.selectAll('w').select('m.role');
    if (options.after) page = page.where(sql<boolean>`(w.search_name, w.slug) > (${options.after.searchName}, ${options.after.slug})`);
    counted = search || !options.everywhere ? countUpToCap(db, base.select(sql<number>`1`.as('one'))) : listedInOrganization(db, options.archived);
    rows = page.orderBy('w.search_name').orderBy('w.slug').limit(limit).offset(offset).execute();
  }
  const [found, total] = await Promise.all([rows, counted]);
  return { rows: found.slice(0, options.perPage), counted: total, more: found.length > options.perPage };
}

/** How many workspaces a user lists, as the triggers keep it. */
async function listedByUser(db: Kysely<WorkspacesDatabase>, userId: string): Promise<number> {
  const row = await db.selectFrom('user_listed_counts').select('listed').where('user_id', '=', userId).executeTakeFirst();
  return row?.listed ?? 0;
}

/** How many workspaces the organization has, active or archived, as the triggers keep it (in slots, added up here). */
async function listedInOrganization(db: Kysely<WorkspacesDatabase>, archived: boolean): Promise<number> {
  const row = await db
    .selectFrom('organization_listed_counts')
    .select((eb) => [eb.fn.sum<string>('active').as('active'), eb.fn.sum<string>('archived').as('archived')])
    .executeTakeFirstOrThrow();
  return Number(archived ? row.archived : row.active);
}

/** How many rows `matches` has, counting no further than `maxCountedItems + 1`. */
async function countUpToCap<DB, TB extends keyof DB>(db: Kysely<WorkspacesDatabase>, matches: SelectQueryBuilder<DB, TB, { one: number }>): Promise<number> {
  const count = await db
    .selectFrom(matches.limit(maxCountedItems + 1).as('matches'))
    .select((eb) => eb.fn.countAll<string>().as('counted'))
    .executeTakeFirstOrThrow();
  return Number(count.counted);
}
