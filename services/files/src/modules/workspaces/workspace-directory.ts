import type { Schemas } from '@hexa/contract';
import type { ServiceClient } from '@hexa/kit';
import { httpError } from '@hexa/kit';

export type WorkspaceFacts = Schemas['WorkspaceFacts'];

/**
 * What this service asks the workspaces service (which owns workspaces):
 * a workspace's id (its folder's name and its connections' owner) and
 * whether it is archived (read-only). Asked on every request, so an archive
 * or a restore takes effect on the next one; unknown is `404
 * workspace_not_found`, unreachable `503`.
 */
export interface WorkspaceDirectory {
  describe(slug: string): Promise<WorkspaceFacts>;
}

export function createWorkspaceDirectory(workspaces: ServiceClient<'workspaces'>): WorkspaceDirectory {
  return { describe: (slug) => workspaces.call('describeWorkspace', { params: { slug } }) };
}

/** The workspace, refused when archived: what every change needs. */
export async function writableWorkspace(directory: WorkspaceDirectory, slug: string): Promise<WorkspaceFacts> {
  const workspace = await directory.describe(slug);
  if (workspace.archived) throw httpError('workspace_archived', 'The workspace is archived: its files and connections are read-only until an organization Owner or Admin restores it.');
  return workspace;
}
