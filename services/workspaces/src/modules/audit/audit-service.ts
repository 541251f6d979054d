import type { Kysely } from 'kysely';
import type { Schemas } from '@hexa/contract';
import type { AuditEntry } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../database.js';
import { maxCountedItems } from '../../paging.js';

/** Keeps the audit trail that every service records into (through its outbox and the workspaces queue), and reads it. */
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

    /**
     * One page of a workspace's entries, newest first (by the time of the
     * change, then id), optionally older than `before`; counted up to
     * `maxCountedItems + 1` on the (workspace, at, id) index.
     */
    async page(workspaceId: string, options: { page: number; perPage: number; before?: Date }): Promise<{ items: Schemas['AuditEvent'][]; counted: number }> {
      let base = deps.db.selectFrom('audit_events').where('workspace_id', '=', workspaceId);
      if (options.before) base = base.where('at', '<', options.before);
      const [rows, count] = await Promise.all([
        base
          .select(['id', 'action', 'actor', 'target', 'before', 'after', 'at'])
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(options.perPage)
          .offset((options.page - 1) * options.perPage)
          .execute(),
        deps.db
          .selectFrom(base.select('id').limit(maxCountedItems + 1).as('entries'))
          .select((eb) => eb.fn.countAll<string>().as('counted'))
          .executeTakeFirstOrThrow(),
      ]);
      const items = rows.map((row) => ({
        id: row.id,
        action: row.action,
        actor: row.actor,
        ...(row.target === null ? {} : { target: row.target }),
        // A JSON null stored as the value reads back as SQL null: an entry without before/after shows neither.
        ...(row.before === null ? {} : { before: row.before }),
        ...(row.after === null ? {} : { after: row.after }),
        at: row.at.toISOString(),
      }));
      return { items, counted: Number(count.counted) };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
