import type { Kysely, Selectable } from 'kysely';
import type { Schemas } from '@hexa/contract';
import type { RunnerDatabase, RunsTable } from '../../database.js';

export type RunRow = Selectable<RunsTable>;

export const liveStatuses = ['queued', 'running'] as const;

export function isLive(status: RunRow['status']): boolean {
  return status === 'queued' || status === 'running';
}

function jsonOf<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function commandOf(row: RunRow): string[] {
  return jsonOf<string[]>(row.command);
}

export function parametersOf(row: RunRow): Record<string, unknown> {
  return jsonOf<Record<string, unknown>>(row.parameters);
}

/** The run as the API shows it; `canCancel` for the caller who asks. */
export function toRun(row: RunRow, canCancel: boolean): Schemas['Run'] {
  return {
    id: row.id,
    pipelineCode: row.pipeline_code,
    status: row.status,
    parameters: parametersOf(row),
    image: row.image,
    imageDigest: row.image_digest,
    exitCode: row.exit_code,
    reason: row.reason,
    launchedBy: row.launched_by,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at ? row.started_at.toISOString() : null,
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    canCancel: canCancel && isLive(row.status),
  };
}

export async function findRun(db: Kysely<RunnerDatabase>, id: string): Promise<RunRow | undefined> {
  return db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function readLogs(db: Kysely<RunnerDatabase>, runId: string, from = 0): Promise<{ text: string; truncated: boolean; length: number }> {
  const row = await db
    .selectFrom('run_logs')
    .select((eb) => [eb.fn<string>('substr', ['text', eb.val(from + 1)]).as('text'), 'truncated', eb.fn<number>('length', ['text']).as('length')])
    .where('run_id', '=', runId)
    .executeTakeFirst();
  return row ? { text: row.text, truncated: row.truncated, length: Number(row.length) } : { text: '', truncated: false, length: 0 };
}
