import type { Generated } from 'kysely';
import type { IdempotencyDatabase, OutboxDatabase } from '@hexa/kit';

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

export interface WorkspacesDatabase extends OutboxDatabase, IdempotencyDatabase {
  workspaces: WorkspacesTable;
}
