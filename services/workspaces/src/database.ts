import type { ColumnType, Generated } from 'kysely';
import type { WorkspaceRole } from '@hexa/contract';
import type { AuditEntry, IdempotencyDatabase, InboxDatabase, OutboxDatabase } from '@hexa/kit';

export type WorkspaceStatus = 'provisioning' | 'ready' | 'failed';

export interface WorkspacesTable {
  id: Generated<string>;
  /** Unique forever (archived workspaces keep theirs) and immutable. */
  slug: string;
  name: string;
  /** The name folded for search and sorting (lower-case, no accents): `searchableName`, kept by the repository. */
  search_name: string;
  description: string;
  /** `description` rendered and sanitised, as of `description_html_version` of the renderer (null: not yet). */
  description_html: string | null;
  description_html_version: number | null;
  countries: string[];
  status: WorkspaceStatus;
  status_reason: string | null;
  /** The image reference the Admins set; null for the platform default. */
  docker_image: string | null;
  created_by: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  archived_at: Date | null;
}

/** JSON written as text, read back parsed. */
type Json<T> = ColumnType<T, string, string>;

/** The audit trail of every workspace, from every service (see `recordAudit` in the kit). */
export interface AuditEventsTable {
  id: string;
  workspace_id: string;
  workspace_slug: string;
  actor: Json<AuditEntry['actor']>;
  action: string;
  target: string | null;
  before: ColumnType<unknown, string | null, string | null>;
  after: ColumnType<unknown, string | null, string | null>;
  at: Date;
  recorded_at: Generated<Date>;
}

/** The replica of membership's roles (membership.changed events); `role` null once removed. */
export interface MemberRolesTable {
  workspace_id: string;
  user_id: string;
  role: WorkspaceRole | null;
  /** The membership change it reflects: bigint, read as a string. */
  version: ColumnType<string, string | number, string | number>;
  /**
   * Copies of the workspace's sort key (folded name, slug) and of whether it
   * is active, kept by `updateWorkspace` and set on insert: a member's list is
   * one range of the `member_roles_listed` index, in name order.
   */
  search_name: string | null;
  workspace_slug: string | null;
  active: boolean | null;
}

/**
 * How many workspaces a user's list shows (their roles that are set, in
 * active workspaces), kept by triggers on `member_roles` (migration
 * `2026-11-30T1500`): a list's total without counting it. No row means 0.
 */
export interface UserListedCountsTable {
  user_id: string;
  listed: number;
}

/** The organization's active and archived workspaces, in 16 slots to add up, kept by triggers on `workspaces`. */
export interface OrganizationListedCountsTable {
  /** 0–15: a workspace counts in the slot of its id's hash, so concurrent creates lock different rows. */
  slot: number;
  active: number;
  archived: number;
}

/** A workspace's configuration properties, one document per workspace, versioned for If-Match. */
export interface WorkspaceConfigurationsTable {
  workspace_id: string;
  properties: Json<Record<string, unknown>>;
  /** Grows by one with every change; the ETag. bigint, read as a string. */
  version: ColumnType<string, string | number, string | number>;
  updated_at: Generated<Date>;
}

export interface WorkspacesDatabase extends OutboxDatabase, IdempotencyDatabase, InboxDatabase {
  workspaces: WorkspacesTable;
  workspace_configurations: WorkspaceConfigurationsTable;
  audit_events: AuditEventsTable;
  member_roles: MemberRolesTable;
  user_listed_counts: UserListedCountsTable;
  organization_listed_counts: OrganizationListedCountsTable;
}
