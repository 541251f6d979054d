import type { Kysely } from 'kysely';
import { createOutboxTable, upgradeOutboxTableToDeadLetters } from '@hexa/kit';

// Frozen in time: never edit a migration that has shipped; add a new one.
// Membership's outbox: audit entries, invitation e-mails and membership.changed events commit with the
// change that causes them. Built in the outbox's two shipped shapes, in order, like every outbox.
export async function up(db: Kysely<any>): Promise<void> {
  await createOutboxTable(db);
  await upgradeOutboxTableToDeadLetters(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('outbox').execute();
}
