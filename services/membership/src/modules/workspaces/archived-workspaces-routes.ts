import type { OperationHandlers } from '@hexa/kit';
import type { ArchivedWorkspacesService } from './archived-workspaces-service.js';

type InternalHandlers = Pick<OperationHandlers<'membership'>, 'followWorkspaceArchive'>;

/** The workspaces service's nudge after an archive or a restore: the event does the same again. */
export function archivedWorkspacesHandlers(archivedWorkspaces: ArchivedWorkspacesService): InternalHandlers {
  return {
    followWorkspaceArchive: async ({ params }) => {
      await archivedWorkspaces.follow(params.slug);
      return { status: 204, body: undefined };
    },
  };
}
