import type { Kysely, Selectable } from 'kysely';
import type { Schemas } from '@hexa/contract';
import type { DatabasesDatabase, PasswordRotationsTable } from '../../database.js';

export type RotationRow = Selectable<PasswordRotationsTable>;

export async function findRotation(db: Kysely<DatabasesDatabase>, id: string): Promise<RotationRow | undefined> {
  return db.selectFrom('password_rotations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Rotations still pending or running with no progress since `before`. */
export async function stalledRotations(db: Kysely<DatabasesDatabase>, before: Date, limit: number): Promise<Pick<RotationRow, 'id' | 'workspace_id' | 'generation'>[]> {
  return db
    .selectFrom('password_rotations')
    .select(['id', 'workspace_id', 'generation'])
    .where('status', 'in', ['pending', 'running'])
    .where('updated_at', '<', before)
    .orderBy('updated_at')
    .limit(limit)
    .execute();
}

export function toRotation(row: RotationRow): Schemas['PasswordRotation'] {
  return {
    id: row.id,
    status: row.status,
    requestedAt: row.requested_at.toISOString(),
    ...(row.completed_at ? { completedAt: row.completed_at.toISOString() } : {}),
    ...(row.failure_reason ? { reason: row.failure_reason } : {}),
  };
}
