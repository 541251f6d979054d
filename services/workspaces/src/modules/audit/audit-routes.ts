import type { OperationHandlers } from '@hexa/kit';
import { assertPageWithinCap, pageInfo } from '../../paging.js';
import type { WorkspacesService } from '../workspaces/workspaces-service.js';
import type { AuditService } from './audit-service.js';

export function auditHandlers(deps: { audit: AuditService; workspaces: Pick<WorkspacesService, 'activeId'> }): Pick<OperationHandlers<'workspaces'>, 'listWorkspaceAudit'> {
  return {
    listWorkspaceAudit: async ({ params, query }) => {
      const page = query.page ?? 1;
      const perPage = query.perPage ?? 50;
      assertPageWithinCap(page, perPage, 'entries');
      const workspaceId = await deps.workspaces.activeId(params.slug);
      const { items, counted } = await deps.audit.page(workspaceId, { page, perPage, ...(query.before ? { before: new Date(query.before) } : {}) });
      return { status: 200, body: { items, ...pageInfo(counted, page, perPage) } };
    },
  };
}
