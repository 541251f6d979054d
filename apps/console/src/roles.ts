import type { Schemas } from './api/client';

export type WorkspaceRole = Schemas['WorkspaceRole'];

/** The roles in the order a person chooses among them (names only: what each may do comes from the API). */
export const workspaceRoles: readonly WorkspaceRole[] = ['VIEWER', 'EDITOR', 'ADMIN'];

const names: Record<WorkspaceRole, string> = { VIEWER: 'Viewer', EDITOR: 'Editor', ADMIN: 'Admin' };

export function roleName(role: WorkspaceRole): string {
  return names[role];
}
