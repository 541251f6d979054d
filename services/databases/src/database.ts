import type { Generated } from 'kysely';
import type { IdempotencyDatabase, InboxDatabase, OutboxDatabase } from '@hexa/kit';

export type DatabaseStatus = 'provisioning' | 'ready' | 'failed';

/** One workspace's database: its generated names, its logins' passwords (encrypted) and where provisioning stands. */
export interface WorkspaceDatabasesTable {
  workspace_id: string;
  /** Immutable and never reused (the workspaces service guarantees it): the key of the API's paths. */
  slug: string;
  status: DatabaseStatus;
  /** Why it failed, or why it is retrying; null otherwise. */
  status_reason: string | null;
  database_name: string;
  /** The read-write login users are given; owns the database's `public` schema. */
  owner_role: string;
  /** The read-only login the content pages use; never shown to anyone. */
  reader_role: string;
  /** AES-256-GCM envelopes (the kit's secrets.ts), bound to the workspace and the login. */
  owner_password: string;
  reader_password: string;
  /** Grows with each retry or re-enqueue, so each gets its own job ids. */
  generation: Generated<number>;
  created_at: Generated<Date>;
  /** Any progress moves it: the reconciler looks for provisioning that has none. */
  updated_at: Generated<Date>;
  ready_at: Date | null;
  /** Set while the workspace is archived: its logins are disabled. */
  archived_at: Date | null;
}

/** The provisioning steps done on the workspace cluster, so that a retry resumes after the last one. */
export interface ProvisioningStepsTable {
  workspace_id: string;
  step: string;
  completed_at: Generated<Date>;
}

export type RotationStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface PasswordRotationsTable {
  id: string;
  workspace_id: string;
  status: RotationStatus;
  requested_by: string;
  requested_at: Generated<Date>;
  updated_at: Generated<Date>;
  completed_at: Date | null;
  failure_reason: string | null;
  /** The new password (encrypted) between the job choosing it and the rotation ending, so a retry sets the same one. */
  new_password: string | null;
  generation: Generated<number>;
}

export interface DatabasesDatabase extends OutboxDatabase, IdempotencyDatabase, InboxDatabase {
  workspace_databases: WorkspaceDatabasesTable;
  provisioning_steps: ProvisioningStepsTable;
  password_rotations: PasswordRotationsTable;
}
