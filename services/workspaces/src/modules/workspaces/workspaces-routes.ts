import type { Schemas } from '@hexa/contract';
import { requireUser, type OperationHandlers } from '@hexa/kit';
import { allCountries } from '../countries/countries-fns.js';
import type { WorkspacesService } from './workspaces-service.js';

type WorkspaceHandlers = Pick<
  OperationHandlers<'workspaces'>,
  'createWorkspace' | 'listWorkspaces' | 'getWorkspace' | 'updateWorkspace' | 'updateWorkspaceDescription' | 'archiveWorkspace' | 'restoreWorkspace' | 'listCountries'
>;

export function workspacesHandlers(workspaces: WorkspacesService): WorkspaceHandlers {
  return {
    createWorkspace: async ({ caller, body, idempotency }) => {
      const answer = (workspace: Schemas['Workspace']) => ({ status: 201 as const, body: workspace, headers: { location: `/api/workspaces/${workspace.slug}` } });
      const workspace = await workspaces.create(requireUser(caller), body, idempotency && ((trx, created) => idempotency.answerIn(trx, answer(created))));
      return answer(workspace);
    },
    listWorkspaces: async ({ caller, query }) => {
      const options = { page: query.page, after: query.after, perPage: query.perPage ?? 20, archived: query.archived ?? false, ...(query.query ? { query: query.query } : {}) };
      return { status: 200, body: await workspaces.list(requireUser(caller), options) };
    },
    getWorkspace: async ({ caller, params }) => ({ status: 200, body: await workspaces.get(requireUser(caller), params.slug) }),
    updateWorkspace: async ({ caller, params, body }) => ({ status: 200, body: await workspaces.update(requireUser(caller), params.slug, body) }),
    updateWorkspaceDescription: async ({ caller, params, body }) => ({ status: 200, body: await workspaces.setDescription(requireUser(caller), params.slug, body.markdown) }),
    archiveWorkspace: async ({ caller, params }) => ({ status: 200, body: await workspaces.archive(requireUser(caller), params.slug) }),
    restoreWorkspace: async ({ caller, params }) => ({ status: 200, body: await workspaces.restore(requireUser(caller), params.slug) }),
    listCountries: async ({ caller }) => {
      requireUser(caller);
      return { status: 200, body: allCountries };
    },
  };
}
