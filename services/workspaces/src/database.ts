import type { ColumnType, Generated } from 'kysely';
import type { WorkspaceRole } from '@hexa/contract';
import type { AuditEntry, IdempotencyDatabase, InboxDatabase, OutboxDatabase } from '@hexa/kit';

export type WorkspaceStatus = 'provisioning' | 'ready' | 'failed';

export interface WorkspacesTable {
  id: Generated<string>;
  /** Unique forever (archived workspaces keep theirs) and immutable. */
  slug: string;
  name: string;
  description: string;
  countries: string[];
  status: WorkspaceStatus;
  status_reason: string | null;
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
}

export interface WorkspacesDatabase extends OutboxDatabase, IdempotencyDatabase, InboxDatabase {
  workspaces: WorkspacesTable;
  audit_events: AuditEventsTable;
  member_roles: MemberRolesTable;
}
