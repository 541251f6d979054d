import type { Generated } from 'kysely';
import type { IdempotencyDatabase, OutboxDatabase } from '@hexa/kit';

/** One field of a connection as stored: a secret's value only as an AES-256-GCM envelope (the kit's secrets.ts). */
export interface StoredField {
  code: string;
  secret: boolean;
  /** The value of a field that is not secret; absent for a secret one. */
  value?: string;
  /** The envelope of a secret value, bound to the connection and the field's code. */
  sealed?: string;
}

export interface ConnectionsTable {
  id: string;
  workspace_id: string;
  slug: string;
  name: string;
  type: string;
  description: string;
  /** jsonb: StoredField[] in the order given. */
  fields: StoredField[];
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface FilesDatabase extends OutboxDatabase, IdempotencyDatabase {
  connections: ConnectionsTable;
}
