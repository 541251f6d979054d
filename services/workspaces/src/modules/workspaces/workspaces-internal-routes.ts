import type { Kysely } from 'kysely';
import { httpError, type OperationHandlers } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../database.js';
import { readConfiguration } from '../configuration/configuration-repository.js';
import type { ImagePolicy } from './image-reference-fns.js';

type InternalHandlers = Pick<OperationHandlers<'workspaces'>, 'describeWorkspace' | 'getRunContext'>;

/**
 * Internal operations: only the services the contract names (`x-callers`)
 * reach them. Membership asks for a workspace's id, name and state when it
 * invites to it (archived ones included: it refuses those itself).
 */
export function workspacesInternalHandlers(deps: { db: Kysely<WorkspacesDatabase>; images: ImagePolicy }): InternalHandlers {
  return {
    describeWorkspace: async ({ params }) => {
      const row = await deps.db.selectFrom('workspaces').select(['id', 'slug', 'name', 'archived_at']).where('slug', '=', params.slug).executeTakeFirst();
      if (!row) throw httpError('workspace_not_found');
      return { status: 200, body: { id: row.id, slug: row.slug, name: row.name, archived: row.archived_at !== null } };
    },
    // The runner reads it when a run is launched (the image it records) and when its container starts (the configuration it sees).
    getRunContext: async ({ params }) => {
      const row = await deps.db.selectFrom('workspaces').select(['id', 'slug', 'archived_at', 'docker_image']).where('slug', '=', params.slug).executeTakeFirst();
      if (!row) throw httpError('workspace_not_found');
      const configuration = await readConfiguration(deps.db, row.id);
      // The allow-list applies when an image is set; one set before the list was tightened is judged again here,
      // where a run is launched (the platform default is always allowed).
      const imageNotAllowed = row.docker_image === null ? null : (deps.images.problem(row.docker_image) ?? null);
      return {
        status: 200,
        body: { workspaceId: row.id, slug: row.slug, archived: row.archived_at !== null, image: deps.images.effective(row.docker_image), imageNotAllowed, configuration: configuration.properties },
      };
    },
  };
}
