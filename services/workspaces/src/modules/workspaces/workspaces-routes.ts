import { requireUser, type OperationHandlers } from '@hexa/kit';
import { allCountries } from '../countries/countries-fns.js';
import type { WorkspacesService } from './workspaces-service.js';

export function workspacesHandlers(workspaces: WorkspacesService): Omit<OperationHandlers<'workspaces'>, 'describeWorkspace'> {
  return {
    createWorkspace: async ({ caller, body }) => {
      const workspace = await workspaces.create(requireUser(caller), body);
      return { status: 201, body: workspace, headers: { location: `/api/workspaces/${workspace.slug}` } };
    },
    listWorkspaces: async ({ caller, query }) => {
      const page = query.page ?? 1;
      const perPage = query.perPage ?? 20;
      const { items, total } = await workspaces.list(requireUser(caller), { ...(query.query ? { query: query.query } : {}), page, perPage });
      return { status: 200, body: { items, page, perPage, totalItems: total, totalPages: Math.ceil(total / perPage) } };
    },
    getWorkspace: async ({ caller, params }) => ({ status: 200, body: await workspaces.get(requireUser(caller), params.slug) }),
    listCountries: async ({ caller }) => {
      requireUser(caller);
      return { status: 200, body: allCountries };
    },
  };
}
