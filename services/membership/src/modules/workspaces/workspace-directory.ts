import type { Schemas } from '@hexa/contract';
import type { ServiceClient } from '@hexa/kit';

export type WorkspaceFacts = Schemas['WorkspaceFacts'];

/**
 * What membership asks the workspaces service (which owns workspaces) when it
 * invites: whether the workspace exists and is active, its id and its name.
 * Unknown is `404 workspace_not_found`; unreachable is `503`.
 */
export interface WorkspaceDirectory {
  describe(slug: string): Promise<WorkspaceFacts>;
}

export function createWorkspaceDirectory(workspaces: ServiceClient<'workspaces'>): WorkspaceDirectory {
  return {
    describe: (slug) => workspaces.call('describeWorkspace', { params: { slug } }),
  };
}
