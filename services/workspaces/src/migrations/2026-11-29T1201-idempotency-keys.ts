import type { Kysely } from 'kysely';
import { createIdempotencyTable } from '@hexa/kit';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await createIdempotencyTable(db);
}
