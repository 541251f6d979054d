import { sql, type Kysely } from 'kysely';
import type { WorkspacesDatabase } from '../../database.js';

export interface StoredConfiguration {
  properties: Record<string, unknown>;
  version: string;
}

export async function readConfiguration(db: Kysely<WorkspacesDatabase>, workspaceId: string): Promise<StoredConfiguration> {
  return db.selectFrom('workspace_configurations').select(['properties', 'version']).where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
}

/** The configuration, locked until the transaction ends: its writers go one at a time, each on the latest version. */
export async function lockConfiguration(db: Kysely<WorkspacesDatabase>, workspaceId: string): Promise<StoredConfiguration> {
  return db.selectFrom('workspace_configurations').select(['properties', 'version']).where('workspace_id', '=', workspaceId).forUpdate().executeTakeFirstOrThrow();
}

export async function writeConfiguration(db: Kysely<WorkspacesDatabase>, workspaceId: string, properties: Record<string, unknown>): Promise<StoredConfiguration> {
  return db
    .updateTable('workspace_configurations')
    .set({ properties: JSON.stringify(properties), version: sql`version + 1`, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .returning(['properties', 'version'])
    .executeTakeFirstOrThrow();
}
