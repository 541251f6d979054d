import { sql, type Kysely, type Selectable } from 'kysely';
import { httpError } from '@hexa/kit';
import type { DatabasesDatabase, WorkspaceDatabasesTable } from '../../database.js';

export type WorkspaceDatabaseRow = Selectable<WorkspaceDatabasesTable>;

export async function findWorkspaceDatabase(db: Kysely<DatabasesDatabase>, workspaceId: string): Promise<WorkspaceDatabaseRow | undefined> {
  return db.selectFrom('workspace_databases').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
}

export async function findWorkspaceDatabaseBySlug(db: Kysely<DatabasesDatabase>, slug: string): Promise<WorkspaceDatabaseRow | undefined> {
  return db.selectFrom('workspace_databases').selectAll().where('slug', '=', slug).executeTakeFirst();
}

/**
 * The database of a workspace the API addresses. An archived workspace's is
 * `404 workspace_not_found`, like the workspace; one this service does not know
 * is `404 not_found`: the workspace does not exist, or its `workspace.created`
 * has not arrived yet (the gateway lets organization Admins address any slug,
 * so "not yet" cannot be told from "never").
 */
export async function getWorkspaceDatabaseBySlug(db: Kysely<DatabasesDatabase>, slug: string): Promise<WorkspaceDatabaseRow> {
  const row = await findWorkspaceDatabaseBySlug(db, slug);
  if (row?.archived_at) throw httpError('workspace_not_found');
  if (!row) throw httpError('not_found', "This workspace's database is not known (yet): it is set up within seconds of the workspace's creation.");
  return row;
}

export async function completedSteps(db: Kysely<DatabasesDatabase>, workspaceId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('provisioning_steps').select('step').where('workspace_id', '=', workspaceId).execute();
  return new Set(rows.map((row) => row.step));
}

/** Records a step as done, and the progress the reconciler looks for. */
export async function recordStep(db: Kysely<DatabasesDatabase>, workspaceId: string, step: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('provisioning_steps').values({ workspace_id: workspaceId, step }).onConflict((conflict) => conflict.columns(['workspace_id', 'step']).doNothing()).execute();
    await trx.updateTable('workspace_databases').set({ updated_at: sql<Date>`now()`, status_reason: null }).where('workspace_id', '=', workspaceId).execute();
  });
}

/** Provisioning rows with no progress since `before`, oldest first. */
export async function stalledProvisioning(db: Kysely<DatabasesDatabase>, before: Date, limit: number): Promise<Pick<WorkspaceDatabaseRow, 'workspace_id' | 'generation'>[]> {
  return db
    .selectFrom('workspace_databases')
    .select(['workspace_id', 'generation'])
    .where('status', '=', 'provisioning')
    .where('updated_at', '<', before)
    .orderBy('updated_at')
    .limit(limit)
    .execute();
}
