import type { Generated } from 'kysely';
import type { OrganizationRole, Schemas, WorkspaceRole } from '@hexa/contract';
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

/** One sign-in: every refresh token rotated from it shares its lifetime and its revocation. */
export interface RefreshFamiliesTable {
  id: Generated<string>;
  user_id: string;
  /** Absolute: rotation never extends it. */
  expires_at: Date;
  revoked_at: Date | null;
  created_at: Generated<Date>;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  family_id: string;
  user_id: string;
  /** SHA-256 of the token: a database leak does not leak sessions. */
  token_hash: string;
  /** The family's end, copied for the reader: a rotated token expires when its family does. */
  expires_at: Date;
  used_at: Date | null;
  created_at: Generated<Date>;
}

export interface PersonalAccessTokensTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  /** SHA-256 of the secret; the secret itself is shown once and never stored. */
  token_hash: string;
  scope: Schemas['TokenScope'];
  expires_at: Date;
  last_used_at: Date | null;
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
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  personal_access_tokens: PersonalAccessTokensTable;
  workspace_memberships: WorkspaceMembershipsTable;
  login_failures: LoginFailuresTable;
}
