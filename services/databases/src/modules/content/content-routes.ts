import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { ContentService } from './content-service.js';

export function contentHandlers(content: ContentService): Pick<OperationHandlers<'databases'>, 'listWorkspaceDatabaseTables' | 'listWorkspaceDatabaseRows'> {
  return {
    listWorkspaceDatabaseTables: async ({ caller, params, query }) => {
      requireUser(caller);
      const page = query.page ?? 1;
      const perPage = query.perPage ?? 50;
      const { items, total } = await content.listTables(params.slug, { page, perPage });
      return { status: 200, body: { items, page, perPage, totalItems: total, totalPages: Math.ceil(total / perPage) } };
    },
    listWorkspaceDatabaseRows: async ({ caller, params, query }) => {
      requireUser(caller);
      const body = await content.listRows(params.slug, params.table, {
        page: query.page ?? 1,
        perPage: query.perPage ?? 20,
        direction: query.direction ?? 'asc',
        ...(query.orderBy !== undefined ? { orderBy: query.orderBy } : {}),
      });
      return { status: 200, body };
    },
  };
}
