import type { ColumnType, Generated } from 'kysely';
import type { IdempotencyDatabase, InboxDatabase, OutboxDatabase } from '@hexa/kit';

export interface PipelinesTable {
  workspace_id: string;
  workspace_slug: string;
  code: string;
  name: string;
  description: string;
  /** JSON array of strings. */
  command: string;
  timeout_seconds: number;
  memory_mb: number;
  cpus: number;
  created_by: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'timed_out';

/** One run: what it was launched with (frozen at launch), where it stands, and its container. */
export interface RunsTable {
  id: string;
  workspace_id: string;
  workspace_slug: string;
  pipeline_code: string;
  command: string;
  timeout_seconds: number;
  memory_mb: number;
  cpus: number;
  parameters: string;
  image: string;
  image_digest: string | null;
  /** Names of the environment variables whose values its stored output masks (the token, passwords, secret connection fields). */
  masked_variables: ColumnType<string[], string[] | undefined, string[]>;
  status: RunStatus;
  exit_code: number | null;
  reason: string | null;
  launched_by: string;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
  /** The worker that took the run (a queued run with one is being started). */
  claimed_by: string | null;
  claimed_at: Date | null;
  container_id: string | null;
  /** SHA-256 of the run's token; cleared when the run ends, so the token stops working. */
  token_hash: string | null;
  cancel_requested_at: Date | null;
  cancel_reason: string | null;
  updated_at: Generated<Date>;
}

/** Stored output: appended as it comes, bounded, masked. */
export interface RunLogsTable {
  run_id: string;
  text: Generated<string>;
  truncated: Generated<boolean>;
  /** Characters of the container's raw output already stored: an adopted run skips them. */
  consumed: Generated<number>;
}

export interface RunnerDatabase extends OutboxDatabase, IdempotencyDatabase, InboxDatabase {
  pipelines: PipelinesTable;
  runs: RunsTable;
  run_logs: RunLogsTable;
}
