import type { Generated } from 'kysely';
import type { OrganizationRole, Schemas, WorkspaceRole } from '@hexa/contract';
import type { IdempotencyDatabase, InboxDatabase, OutboxDatabase } from '@hexa/kit';

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

export type InvitationStatus = Schemas['InvitationStatus'];
export type MailStatus = Schemas['InvitationDelivery']['status'];

/**
 * An invitation to a workspace. Its status is stored as it was last
 * written: a `PENDING` row whose `expires_at` has passed reads as `EXPIRED`
 * (invitations-fns `effectiveStatus`) until the sweeper writes it so.
 */
export interface InvitationsTable {
  id: Generated<string>;
  workspace_id: string;
  workspace_slug: string;
  /** The workspace's name when the invitation was (re)sent: what the e-mail and the invitee see. */
  workspace_name: string;
  /** Stored lower-cased, like users' e-mail addresses. */
  email: string;
  role: WorkspaceRole;
  status: InvitationStatus;
  /** The Admin who sent it, or last resent it; their losing the Admin role revokes it while pending. */
  invited_by: string;
  /** SHA-256 of the link's token; null until the e-mail worker makes the token, and after a resend until it makes the next. */
  token_hash: string | null;
  /** Which send is current (1, then one more per resend): an e-mail job for an older send does nothing. */
  send_count: Generated<number>;
  expires_at: Date;
  /** When it was accepted, declined, revoked or marked expired. */
  responded_at: Date | null;
  mail_status: Generated<MailStatus>;
  mail_attempts: Generated<number>;
  mail_error: string | null;
  mail_last_attempt_at: Date | null;
  mail_sent_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** One row per invitation e-mail ordered (an invitation or a resend): the per-workspace daily budget counts them. */
export interface InvitationSendsTable {
  id: Generated<string>;
  workspace_slug: string;
  invitation_id: string;
  sent_at: Generated<Date>;
}

/** A workspace that is archived, as the workspaces service last said (its slug: slugs are never reused). */
export interface ArchivedWorkspacesTable {
  workspace_slug: string;
  recorded_at: Generated<Date>;
}

export interface LoginFailuresTable {
  key: string;
  window_start: Date;
  failures: number;
}

export interface MembershipDatabase extends InboxDatabase, IdempotencyDatabase, OutboxDatabase {
  users: UsersTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  personal_access_tokens: PersonalAccessTokensTable;
  workspace_memberships: WorkspaceMembershipsTable;
  login_failures: LoginFailuresTable;
  invitations: InvitationsTable;
  invitation_sends: InvitationSendsTable;
  archived_workspaces: ArchivedWorkspacesTable;
}
