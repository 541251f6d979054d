import type { Generated } from 'kysely';
import type { OrganizationRole, WorkspaceRole } from '@hexa/contract';
import type { IdempotencyDatabase, InboxDatabase } from '@hexa/kit';

export interface UsersTable {
  id: Generated<string>;
  /** Stored lower-cased: e-mail addresses are matched without case. */
  email: string;
  name: string;
  password_hash: string;
  organization_role: OrganizationRole;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  family_id: string;
  user_id: string;
  /** SHA-256 of the token: a database leak does not leak sessions. */
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Generated<Date>;
}

export interface WorkspaceMembershipsTable {
  /** Slugs are immutable and never reused, so they identify a workspace here. */
  workspace_slug: string;
  workspace_id: string;
  user_id: string;
  role: WorkspaceRole;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface LoginFailuresTable {
  key: string;
  window_start: Date;
  failures: number;
}

export interface MembershipDatabase extends InboxDatabase, IdempotencyDatabase {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  workspace_memberships: WorkspaceMembershipsTable;
  login_failures: LoginFailuresTable;
}
