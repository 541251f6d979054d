import type { Kysely, Transaction } from 'kysely';
import { actsAsAdminEverywhere, permissionsOf, type Schemas, type WorkspaceRole } from '@hexa/contract';
import { auditActor, enqueueJob, httpError, isUniqueViolation, publishEvent, recordAudit, type ServiceClient, type UserCaller } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../database.js';
import { assertPageWithinCap, maxCountedItems, pageInfo } from '../../paging.js';
import { isCountryCode, toCountries } from '../countries/countries-fns.js';
import { defaultDescription } from './default-description.js';
import { homePageRendererVersion, renderHomePage } from './home-page-fns.js';
import type { ImagePolicy } from './image-reference-fns.js';
import { decodeListCursor, encodeListCursor, type ListCursor } from './list-cursor-fns.js';
import { slugify, withRandomSuffix } from './slug-fns.js';
import { findActiveWorkspace, insertWorkspace, lockWorkspace, pageWorkspaces, storeRendering, updateWorkspace, type RenderedPage, type WorkspaceChanges, type WorkspaceRow } from './workspaces-repository.js';

type RoleSource = 'member' | 'organization';

/** How long a create waits for membership to grant the creator's role before answering with the role pending. */
const creatorGrantTimeoutMs = 2000;
/** How long an archive or a restore waits for membership to take it in; the event does it later otherwise. */
const archiveFollowTimeoutMs = 2000;

/** Tries with a random suffix before giving up on a name whose slugs keep colliding. */
const slugAttempts = 5;

/** The position `after` names, or a 400: a page is asked for by number or by cursor, not both. */
function readCursor(after: string, page: number | undefined): ListCursor {
  if (page !== undefined) throw httpError('invalid_input', 'Ask for a page by number or by cursor, not both.', { errors: [{ field: 'querystring/after', message: 'not with page' }] });
  const cursor = decodeListCursor(after);
  if (!cursor) throw httpError('invalid_input', 'The cursor is not one this list answered.', { errors: [{ field: 'querystring/after', message: 'not a cursor of this list' }] });
  return cursor;
}

function toSummary(row: WorkspaceRow, role: WorkspaceRole): Schemas['WorkspaceSummary'] {
  return {
    slug: row.slug,
    name: row.name,
    status: row.status,
    role,
    countries: toCountries(row.countries),
    createdAt: row.created_at.toISOString(),
    ...(row.archived_at ? { archivedAt: row.archived_at.toISOString() } : {}),
  };
}

function assertKnownCountries(codes: readonly string[]): void {
  const errors = codes.flatMap((code, index) => (isCountryCode(code) ? [] : [{ field: `body/countries/${index}`, message: `unknown country code "${code}"` }]));
  if (errors.length > 0) throw httpError('invalid_input', errors.map((error) => error.message).join('; '), { errors });
}

/** A page rendered now; input no renderer can handle is refused rather than failing the request. */
function renderPage(markdown: string): RenderedPage {
  try {
    return { markdown, html: renderHomePage(markdown), version: homePageRendererVersion };
  } catch (error) {
    if (error instanceof RangeError) throw httpError('invalid_input', 'The home page nests too deeply to be shown.', { errors: [{ field: 'body/markdown', message: 'nests too deeply' }] });
    throw error;
  }
}

/** The settings an audit entry shows, by the names of the API. */
function settingsOf(row: WorkspaceRow): { name: string; countries: string[]; dockerImage: string | null } {
  return { name: row.name, countries: row.countries, dockerImage: row.docker_image };
}

export interface WorkspacesServiceDeps {
  db: Kysely<WorkspacesDatabase>;
  membership: ServiceClient<'membership'>;
  images: ImagePolicy;
  log: { warn(object: object, message: string): void };
}

export function createWorkspacesService(deps: WorkspacesServiceDeps) {
  const { db, membership, images } = deps;

  /**
   * The page's HTML: as stored when it was written, or, when the renderer
   * changed since (or the page predates stored renderings), rendered now and
   * stored for the next readers.
   */
  async function descriptionHtmlOf(row: WorkspaceRow): Promise<string> {
    if (row.description_html !== null && row.description_html_version === homePageRendererVersion) return row.description_html;
    const page = renderPage(row.description);
    await storeRendering(db, row.id, page);
    return page.html;
  }

  async function toWorkspace(row: WorkspaceRow, role: WorkspaceRole, roleSource: RoleSource): Promise<Schemas['Workspace']> {
    return {
      id: row.id,
      slug: row.slug,
      name: row.name,
      description: row.description,
      descriptionHtml: await descriptionHtmlOf(row),
      countries: toCountries(row.countries),
      dockerImage: row.docker_image,
      effectiveImage: images.effective(row.docker_image),
      status: row.status,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      ...(row.archived_at ? { archivedAt: row.archived_at.toISOString() } : {}),
      role,
      roleSource,
      permissions: permissionsOf(role),
    };
  }

  /** The caller's role in the addressed workspace, as the gateway resolved it (the binding checked it is this slug). */
  function roleIn(caller: UserCaller, slug: string): { role: WorkspaceRole; source: RoleSource } {
    if (caller.workspace?.slug !== slug) throw httpError('workspace_not_found');
    return caller.workspace;
  }

  /**
   * Changes an active workspace under its row lock, audits the change in the
   * same transaction and answers the workspace as it now is.
   */
  async function change(
    caller: UserCaller,
    slug: string,
    decide: (row: WorkspaceRow) => { changes: WorkspaceChanges; audit?: { action: string; before?: unknown; after?: unknown } },
  ): Promise<Schemas['Workspace']> {
    const { role, source } = roleIn(caller, slug);
    const row = await db.transaction().execute(async (trx) => {
      const current = await lockWorkspace(trx, slug);
      if (!current || current.archived_at !== null) throw httpError('workspace_not_found');
      const { changes, audit } = decide(current);
      if (!audit) return current;
      const updated = await updateWorkspace(trx, current.id, changes);
      await recordAudit(trx, { workspaceId: current.id, workspaceSlug: slug, actor: auditActor(caller), ...audit });
      return updated;
    });
    return toWorkspace(row, role, source);
  }

  return {
    /**
     * Creates a workspace; the caller becomes its Admin. The row, its
     * configuration, the creator's row in the replica of roles, its jobs
     * (provision the database; grant the creator's role) and its audit entry
     * commit together, so a crash or a Redis loss after the commit loses
     * nothing. The role is normally granted before the answer; when
     * membership is slow the answer still says 201 (a retry would create a
     * second workspace) with the role `pending`, and the outbox job grants it.
     * `inTransaction` sees the workspace as committed (role pending) in the
     * creating transaction: the idempotent answer commits with it.
     */
    async create(
      caller: UserCaller,
      input: { name: string; description?: string; countries?: string[] },
      inTransaction?: (trx: Transaction<WorkspacesDatabase>, workspace: Schemas['Workspace']) => Promise<void>,
    ): Promise<Schemas['Workspace']> {
      if (!actsAsAdminEverywhere(caller.organizationRole) && !caller.adminSomewhere) {
        throw httpError('forbidden', 'Only organization Owners and Admins, and Admins of a workspace, create workspaces.');
      }
      const countries = input.countries ?? [];
      assertKnownCountries(countries);
      const name = input.name.trim();
      const row = await createRow(caller, { name, description: input.description, countries, createdBy: caller.userId }, async (trx, created) => {
        if (inTransaction) await inTransaction(trx, { ...(await toWorkspace(created, 'ADMIN', 'member')), roleStatus: 'pending' });
      });
      let roleStatus: 'granted' | 'pending' = 'granted';
      try {
        await membership.call('grantCreatorAdmin', { params: { slug: row.slug, userId: caller.userId }, body: { workspaceId: row.id } }, { timeoutMs: creatorGrantTimeoutMs });
      } catch (error) {
        deps.log.warn({ err: error, slug: row.slug }, 'creator role not granted yet; the outbox job will grant it');
        roleStatus = 'pending';
      }
      return { ...(await toWorkspace(row, 'ADMIN', 'member')), roleStatus };
    },

    /**
     * One page of the caller's workspaces from the replica of roles (every
     * workspace for organization Owners and Admins); archived ones for
     * organization Owners and Admins only. A page is asked for by number or
     * by the cursor the page before it answered.
     */
    async list(caller: UserCaller, options: { query?: string; page?: number; after?: string; perPage: number; archived: boolean }) {
      const everywhere = actsAsAdminEverywhere(caller.organizationRole);
      if (options.archived && !everywhere) throw httpError('forbidden', 'Only organization Owners and Admins see archived workspaces.');
      const cursor = options.after === undefined ? undefined : readCursor(options.after, options.page);
      const page = cursor?.page ?? options.page ?? 1;
      assertPageWithinCap(page, options.perPage, 'workspaces');
      const { rows, counted, more } = await pageWorkspaces(db, { userId: caller.userId, everywhere, archived: options.archived, query: options.query, after: cursor, page, perPage: options.perPage });
      const last = rows.at(-1);
      // No cursor to a page past the counted window: it would be refused.
      const nextCursor = more && last && page * options.perPage < maxCountedItems ? encodeListCursor({ searchName: last.search_name, slug: last.slug, page: page + 1 }) : null;
      // An organization Owner/Admin who is not a member acts as Admin.
      return { items: rows.map((row) => toSummary(row, row.role ?? 'ADMIN')), ...pageInfo(counted, page, options.perPage), nextCursor };
    },

    async get(caller: UserCaller, slug: string): Promise<Schemas['Workspace']> {
      const { role, source } = roleIn(caller, slug);
      const row = await findActiveWorkspace(db, slug);
      if (!row) throw httpError('workspace_not_found');
      return toWorkspace(row, role, source);
    },

    /** The id of an active workspace, or 404 (archived ones included). */
    async activeId(slug: string): Promise<string> {
      const row = await findActiveWorkspace(db, slug);
      if (!row) throw httpError('workspace_not_found');
      return row.id;
    },

    /** Changes the general settings; the audit entry holds the changed fields before and after. */
    async update(caller: UserCaller, slug: string, input: { name?: string; countries?: string[]; dockerImage?: string }): Promise<Schemas['Workspace']> {
      if (input.countries) assertKnownCountries(input.countries);
      // An empty image means the platform default, kept as null.
      const image = input.dockerImage === undefined ? undefined : input.dockerImage === '' ? null : input.dockerImage;
      if (image) {
        const problem = images.problem(image);
        if (problem) throw httpError('invalid_input', problem, { errors: [{ field: 'body/dockerImage', message: problem }] });
      }
      const wanted: WorkspaceChanges = {
        ...(input.name !== undefined ? { name: input.name.trim() } : {}),
        ...(input.countries !== undefined ? { countries: input.countries } : {}),
        ...(image !== undefined ? { dockerImage: image } : {}),
      };
      return change(caller, slug, (row) => {
        const before = settingsOf(row);
        const after = { ...before, ...wanted };
        const fields = (['name', 'countries', 'dockerImage'] as const).filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
        if (fields.length === 0) return { changes: {} };
        const pick = (settings: typeof before) => Object.fromEntries(fields.map((field) => [field, settings[field]]));
        return { changes: wanted, audit: { action: 'workspace.settings-changed', before: pick(before), after: pick(after) } };
      });
    },

    /** Replaces the home page. The audit entry says how long it was and is, not what it says. */
    async setDescription(caller: UserCaller, slug: string, markdown: string): Promise<Schemas['Workspace']> {
      // Rendered once, here, outside the row lock; readers get the stored HTML.
      const page = renderPage(markdown);
      return change(caller, slug, (row) =>
        row.description === markdown
          ? { changes: {} }
          : { changes: { description: page }, audit: { action: 'workspace.description-changed', before: { characters: row.description.length }, after: { characters: markdown.length } } },
      );
    },

    /**
     * Archives the workspace: it leaves every list and lookup. The
     * `workspace.archived` event reaches every service that consumes it,
     * through the outbox, in the same transaction.
     */
    async archive(caller: UserCaller, slug: string): Promise<Schemas['Workspace']> {
      const { role, source } = roleIn(caller, slug);
      const row = await db.transaction().execute(async (trx) => {
        const current = await lockWorkspace(trx, slug);
        if (!current) throw httpError('workspace_not_found');
        if (current.archived_at !== null) throw httpError('conflict', `The workspace was already archived on ${current.archived_at.toISOString()}.`);
        const archived = await updateWorkspace(trx, current.id, { archivedAt: new Date() });
        await publishEvent(trx, 'workspace.archived', { workspaceId: current.id, slug, actorId: caller.userId }, `${current.id}-${archived.archived_at!.getTime()}`);
        await recordAudit(trx, { workspaceId: current.id, workspaceSlug: slug, actor: auditActor(caller), action: 'workspace.archived' });
        return archived;
      });
      await tellMembership(slug);
      return toWorkspace(row, role, source);
    },

    /** Restores an archived workspace (organization Owners and Admins only) and tells the other services. */
    async restore(caller: UserCaller, slug: string): Promise<Schemas['Workspace']> {
      const { role, source } = roleIn(caller, slug);
      if (!actsAsAdminEverywhere(caller.organizationRole)) throw httpError('forbidden', 'Only organization Owners and Admins restore a workspace.');
      const row = await db.transaction().execute(async (trx) => {
        const current = await lockWorkspace(trx, slug);
        if (!current) throw httpError('workspace_not_found');
        if (current.archived_at === null) throw httpError('conflict', 'The workspace is not archived.');
        const restored = await updateWorkspace(trx, current.id, { archivedAt: null });
        await publishEvent(trx, 'workspace.restored', { workspaceId: current.id, slug, actorId: caller.userId }, `${current.id}-${restored.updated_at.getTime()}`);
        await recordAudit(trx, { workspaceId: current.id, workspaceSlug: slug, actor: auditActor(caller), action: 'workspace.restored', before: { archivedAt: current.archived_at.toISOString() } });
        return restored;
      });
      await tellMembership(slug);
      return toWorkspace(row, role, source);
    },
  };

  /**
   * After an archive or a restore commits, membership (whose answer the
   * gateway uses to hide an archived workspace from its members) takes it in
   * before the answer, so it holds for the caller's very next request; when
   * membership is slow or away, the event does it within the relay's pass.
   */
  async function tellMembership(slug: string): Promise<void> {
    try {
      await membership.call('followWorkspaceArchive', { params: { slug } }, { timeoutMs: archiveFollowTimeoutMs });
    } catch (error) {
      deps.log.warn({ err: error, slug }, 'membership did not take the archive in yet; the outbox event will');
    }
  }

  async function createRow(
    caller: UserCaller,
    values: { name: string; description: string | undefined; countries: string[]; createdBy: string },
    alsoIn: (trx: Transaction<WorkspacesDatabase>, row: WorkspaceRow) => Promise<void>,
  ): Promise<WorkspaceRow> {
    // A page of the creator's is rendered once, before any transaction; the default one depends on the slug.
    const provided = values.description === undefined ? undefined : renderPage(values.description);
    for (let attempt = 0; attempt < slugAttempts; attempt += 1) {
      const slug = attempt === 0 ? slugify(values.name) : withRandomSuffix(slugify(values.name));
      try {
        return await db.transaction().execute(async (trx) => {
          // The default page links to the workspace's own routes, so it is written once the slug is chosen.
          const row = await insertWorkspace(trx, { ...values, slug, description: provided ?? renderPage(defaultDescription(values.name, slug)) });
          await enqueueJob(trx, 'databases', 'workspace.created', { workspaceId: row.id, slug: row.slug, createdBy: values.createdBy }, `workspace.created-${row.id}`);
          await enqueueJob(trx, 'membership', 'workspace.created', { workspaceId: row.id, slug: row.slug, createdBy: values.createdBy }, `workspace.created-${row.id}`);
          await recordAudit(trx, { workspaceId: row.id, workspaceSlug: row.slug, actor: auditActor(caller), action: 'workspace.created', after: settingsOf(row) });
          await alsoIn(trx, row);
          return row;
        });
      } catch (error) {
        if (!isUniqueViolation(error, 'workspaces_slug_key')) throw error;
      }
    }
    throw httpError('conflict', 'Could not find a free slug for this name; try another name.');
  }
}

export type WorkspacesService = ReturnType<typeof createWorkspacesService>;
