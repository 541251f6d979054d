import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { JobPayload } from '@hexa/contract';
import type { Caller } from './internal-token.js';
import { enqueueJob, type OutboxDatabase } from './outbox.js';

export type AuditEntry = JobPayload<'workspaces', 'audit.recorded'>;

/** Who an audit entry names: the user behind the request, or the service that acted on its own. */
export function auditActor(caller: Caller): AuditEntry['actor'] {
  if (caller.kind === 'user') return { kind: 'user', userId: caller.userId };
  if (caller.kind === 'service') return { kind: 'service', service: caller.service };
  return { kind: 'service', service: 'anonymous' };
}

/**
 * Records an entry of a workspace's audit trail in the caller's transaction,
 * through its outbox: the entry exists exactly when the change does, and the
 * workspaces service keeps it (idempotently, by the entry's id). Never pass a
 * secret in `before` or `after`.
 *
 * @example
 * await recordAudit(trx, { workspaceId, workspaceSlug: slug, actor: auditActor(caller), action: 'member.role-changed', target: userId, before: 'EDITOR', after: 'ADMIN' });
 */
export async function recordAudit<DB extends OutboxDatabase>(
  db: Kysely<DB> | Transaction<DB>,
  entry: Omit<AuditEntry, 'id' | 'at'> & { id?: string; at?: Date },
): Promise<AuditEntry> {
  const { at, id, ...rest } = entry;
  const recorded: AuditEntry = { ...rest, id: id ?? randomUUID(), at: (at ?? new Date()).toISOString() };
  await enqueueJob(db, 'workspaces', 'audit.recorded', recorded, `audit-${recorded.id}`);
  return recorded;
}
