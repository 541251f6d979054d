import type { Kysely } from 'kysely';
import type { AuditEntry } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../database.js';

/** Keeps the audit trail that every service records into (through its outbox and the workspaces queue). */
export function createAuditService(deps: { db: Kysely<WorkspacesDatabase> }) {
  return {
    /** Stores an entry once: a redelivered entry (same id) changes nothing. */
    async keep(entry: AuditEntry): Promise<void> {
      await deps.db
        .insertInto('audit_events')
        .values({
          id: entry.id,
          workspace_id: entry.workspaceId,
          workspace_slug: entry.workspaceSlug,
          actor: JSON.stringify(entry.actor),
          action: entry.action,
          target: entry.target ?? null,
          before: entry.before === undefined ? null : JSON.stringify(entry.before),
          after: entry.after === undefined ? null : JSON.stringify(entry.after),
          at: new Date(entry.at),
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
