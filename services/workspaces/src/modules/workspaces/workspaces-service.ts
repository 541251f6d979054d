import type { Kysely } from 'kysely';
import { actsAsAdminEverywhere, permissionsOf, type Schemas, type WorkspaceRole } from '@hexa/contract';
import { enqueueJob, httpError, isUniqueViolation, type ServiceClient, type UserCaller } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../database.js';
import { isCountryCode, toCountries } from '../countries/countries-fns.js';
import { defaultDescription } from './default-description.js';
import { slugify, withRandomSuffix } from './slug-fns.js';
import { findActiveWorkspace, insertWorkspace, pageWorkspaces, type WorkspaceRow } from './workspaces-repository.js';

type RoleSource = 'member' | 'organization';

/** How long a create waits for membership to grant the creator's role before answering with the role pending. */
const creatorGrantTimeoutMs = 2000;

/** Tries with a random suffix before giving up on a name whose slugs keep colliding. */
const slugAttempts = 5;

function toSummary(row: WorkspaceRow, role: WorkspaceRole): Schemas['WorkspaceSummary'] {
  return { slug: row.slug, name: row.name, status: row.status, role, countries: toCountries(row.countries), createdAt: row.created_at.toISOString() };
}

function toWorkspace(row: WorkspaceRow, role: WorkspaceRole, roleSource: RoleSource): Schemas['Workspace'] {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    countries: toCountries(row.countries),
    status: row.status,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    role,
    roleSource,
    permissions: permissionsOf(role),
  };
}

function assertKnownCountries(codes: readonly string[]): void {
  const errors = codes.flatMap((code, index) => (isCountryCode(code) ? [] : [{ field: `body/countries/${index}`, message: `unknown country code "${code}"` }]));
  if (errors.length > 0) throw httpError('invalid_input', errors.map((error) => error.message).join('; '), { errors });
}

export interface WorkspacesServiceDeps {
  db: Kysely<WorkspacesDatabase>;
  membership: ServiceClient<'membership'>;
  log: { warn(object: object, message: string): void };
}

export function createWorkspacesService(deps: WorkspacesServiceDeps) {
  const { db, membership } = deps;

  return {
    /**
     * Creates a workspace; the caller becomes its Admin. The row and its jobs
     * (provision the database; grant the creator's role) commit together, so
     * a crash or a Redis loss after the commit loses nothing. The role is
     * normally granted before the answer; when membership is slow the answer
     * still says 201 (a retry would create a second workspace) with the role
     * `pending`, and the outbox job grants it.
     */
    async create(caller: UserCaller, input: { name: string; description?: string; countries?: string[] }): Promise<Schemas['Workspace']> {
      if (!actsAsAdminEverywhere(caller.organizationRole) && !caller.adminSomewhere) {
        throw httpError('forbidden', 'Only organization Owners and Admins, and Admins of a workspace, create workspaces.');
      }
      const countries = input.countries ?? [];
      assertKnownCountries(countries);
      const name = input.name.trim();
      const row = await createRow({ name, description: input.description ?? defaultDescription(name), countries, createdBy: caller.userId });
      let roleStatus: 'granted' | 'pending' = 'granted';
      try {
        await membership.call('grantCreatorAdmin', { params: { slug: row.slug, userId: caller.userId }, body: { workspaceId: row.id } }, { timeoutMs: creatorGrantTimeoutMs });
      } catch (error) {
        deps.log.warn({ err: error, slug: row.slug }, 'creator role not granted yet; the outbox job will grant it');
        roleStatus = 'pending';
      }
      return { ...toWorkspace(row, 'ADMIN', 'member'), roleStatus };
    },

    async list(caller: UserCaller, options: { query?: string; page: number; perPage: number }): Promise<{ items: Schemas['WorkspaceSummary'][]; total: number }> {
      const everywhere = actsAsAdminEverywhere(caller.organizationRole);
      const { items } = await membership.call('listUserMemberships', { params: { userId: caller.userId } });
      const roles = new Map(items.map((item) => [item.workspaceSlug, item.role]));
      const { rows, total } = await pageWorkspaces(db, { ...options, ...(everywhere ? {} : { slugs: [...roles.keys()] }) });
      return { items: rows.map((row) => toSummary(row, roles.get(row.slug) ?? 'ADMIN')), total };
    },

    async get(caller: UserCaller, slug: string): Promise<Schemas['Workspace']> {
      // The gateway resolved the caller's role for this slug; without one the workspace does not exist for them.
      if (caller.workspace?.slug !== slug) throw httpError('workspace_not_found');
      const row = await findActiveWorkspace(db, slug);
      if (!row) throw httpError('workspace_not_found');
      return toWorkspace(row, caller.workspace.role, caller.workspace.source);
    },
  };

  async function createRow(values: { name: string; description: string; countries: string[]; createdBy: string }): Promise<WorkspaceRow> {
    for (let attempt = 0; attempt < slugAttempts; attempt += 1) {
      const slug = attempt === 0 ? slugify(values.name) : withRandomSuffix(slugify(values.name));
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await insertWorkspace(trx, { ...values, slug });
          await enqueueJob(trx, 'databases', 'workspace.created', { workspaceId: row.id, slug: row.slug, createdBy: values.createdBy }, `workspace.created-${row.id}`);
          await enqueueJob(trx, 'membership', 'workspace.created', { workspaceId: row.id, slug: row.slug, createdBy: values.createdBy }, `workspace.created-${row.id}`);
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
