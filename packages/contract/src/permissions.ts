/**
 * The role matrix of DESIGN.md §1.8, as data. Services, the console and
 * docs/permissions.md all read it from here.
 *
 * @example
 * roleHasPermission('EDITOR', 'database:view-credentials') // true
 */
export const workspaceRoles = ['VIEWER', 'EDITOR', 'ADMIN'] as const;
export type WorkspaceRole = (typeof workspaceRoles)[number];

export const organizationRoles = ['OWNER', 'ADMIN', 'MEMBER'] as const;
export type OrganizationRole = (typeof organizationRoles)[number];

interface PermissionRow {
  readonly description: string;
  readonly roles: readonly WorkspaceRole[];
}

const all = ['VIEWER', 'EDITOR', 'ADMIN'] as const;
const editors = ['EDITOR', 'ADMIN'] as const;
const admins = ['ADMIN'] as const;

export const permissionMatrix = {
  // Every role sees the workspace it belongs to: its page, settings and members (implicit in the manual).
  'workspace:read': { description: 'workspace: see it, its home page and its settings', roles: all },
  'files:read': { description: 'files: read and download', roles: all },
  'files:write': { description: 'files: write', roles: editors },
  'database:view-content': { description: 'database: view content', roles: all },
  'database:view-credentials': { description: 'database: view credentials', roles: editors },
  'database:write': { description: 'database: write', roles: editors },
  'database:regenerate-password': { description: 'database: regenerate password', roles: admins },
  'datasets:read': { description: 'datasets: read and download', roles: all },
  'datasets:write': { description: 'datasets: write', roles: editors },
  'connections:use': { description: 'connections: use', roles: editors },
  'connections:manage': { description: 'connections: manage', roles: admins },
  'pipelines:launch': { description: 'pipelines: launch', roles: all },
  'pipelines:create': { description: 'pipelines: create', roles: editors },
  // Deleting a pipeline is not in the manual's matrix; it removes what Editors made for everyone, so Admins only.
  'pipelines:delete': { description: 'pipelines: delete', roles: admins },
  'notebooks:use': { description: 'notebooks: use', roles: editors },
  'workspace:update-description': { description: 'workspace: update description', roles: editors },
  'members:manage': { description: 'members: manage and invite', roles: admins },
  // Admin-only settings of the manual (name, countries, image, configuration, archive).
  'workspace:manage-settings': { description: 'workspace: settings, image, configuration, archive', roles: admins },
} as const satisfies Record<string, PermissionRow>;

export type Permission = keyof typeof permissionMatrix;
export const permissions = Object.keys(permissionMatrix) as Permission[];

export function roleHasPermission(role: WorkspaceRole, permission: Permission): boolean {
  return (permissionMatrix[permission].roles as readonly WorkspaceRole[]).includes(role);
}

/** Every permission a role grants, in matrix order. */
export function permissionsOf(role: WorkspaceRole): Permission[] {
  return permissions.filter((permission) => roleHasPermission(role, permission));
}

/** Organization Owners and Admins act as Admin in every workspace of their organization. */
export function actsAsAdminEverywhere(organizationRole: OrganizationRole): boolean {
  return organizationRole === 'OWNER' || organizationRole === 'ADMIN';
}
