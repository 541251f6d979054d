import { isDeepStrictEqual } from 'node:util';
import type { Kysely, Transaction } from 'kysely';
import { auditActor, httpError, recordAudit, type UserCaller } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../database.js';
import { lockWorkspace, findActiveWorkspace } from '../workspaces/workspaces-repository.js';
import { configurationETag, configurationProblems, ifMatchAccepts, looksLikeSecret, secretKeyMessage } from './configuration-fns.js';
import { lockConfiguration, readConfiguration, writeConfiguration, type StoredConfiguration } from './configuration-repository.js';

export interface ConfigurationAnswer {
  properties: Record<string, unknown>;
  etag: string;
}

type Precondition = { required: true; ifMatch: string | undefined } | { required: false; ifMatch: string | undefined };

const answerOf = (stored: StoredConfiguration): ConfigurationAnswer => ({ properties: stored.properties, etag: configurationETag(stored.version) });

/**
 * A workspace's configuration properties: every member reads them, Admins
 * write them. Every write locks the configuration's row, so writers go one at
 * a time on the latest version: a single-key write never loses another key's
 * change, and a write conditioned on an ETag (If-Match) fails with 412
 * when anything changed since. Each changed key is audited with its before
 * and after, in the write's transaction.
 */
export function createConfigurationService(deps: { db: Kysely<WorkspacesDatabase> }) {
  const { db } = deps;

  async function activeWorkspaceId(slug: string): Promise<string> {
    const row = await findActiveWorkspace(db, slug);
    if (!row) throw httpError('workspace_not_found');
    return row.id;
  }

  /** Runs a change on the locked configuration, after its precondition; `change` answers the new properties. */
  async function write(
    caller: UserCaller,
    slug: string,
    precondition: Precondition,
    change: (current: Record<string, unknown>) => Record<string, unknown>,
    /** Where a problem of the new configuration is reported; null for a removal, which only shrinks it. */
    fieldOf: ((key: string) => string) | null,
  ): Promise<ConfigurationAnswer> {
    if (precondition.required && precondition.ifMatch === undefined) {
      throw httpError('precondition_required', 'Send If-Match with the ETag of the configuration this change is based on (GET the configuration first).');
    }
    return db.transaction().execute(async (trx) => {
      // The workspace first, then its configuration: the same order as every other writer of both.
      const workspace = await lockWorkspace(trx, slug);
      if (!workspace || workspace.archived_at !== null) throw httpError('workspace_not_found');
      const stored = await lockConfiguration(trx, workspace.id);
      const current = configurationETag(stored.version);
      if (precondition.ifMatch !== undefined && !ifMatchAccepts(precondition.ifMatch, current)) {
        throw httpError('precondition_failed', `The configuration changed since you read it (it is now ${current}); read it again and redo your change.`, { headers: { etag: current } });
      }
      const next = change(stored.properties);
      const errors = fieldOf ? configurationProblems(next, fieldOf) : [];
      if (errors.length > 0) throw httpError('invalid_input', errors.map((error) => error.message).join('; '), { errors });
      const changed = await auditChanges(trx, caller, { id: workspace.id, slug }, stored.properties, next);
      return changed ? answerOf(await writeConfiguration(trx, workspace.id, next)) : answerOf(stored);
    });
  }

  return {
    async get(slug: string): Promise<ConfigurationAnswer> {
      return answerOf(await readConfiguration(db, await activeWorkspaceId(slug)));
    },

    /** Replaces every property; needs If-Match. */
    async replace(caller: UserCaller, slug: string, properties: Record<string, unknown>, ifMatch: string | undefined): Promise<ConfigurationAnswer> {
      return write(caller, slug, { required: true, ifMatch }, () => properties, (name) => `body/properties/${name}`);
    },

    /** Sets one property; If-Match optional. */
    async set(caller: UserCaller, slug: string, key: string, value: unknown, ifMatch: string | undefined): Promise<ConfigurationAnswer> {
      if (looksLikeSecret(key)) throw httpError('invalid_input', secretKeyMessage(key), { errors: [{ field: 'params/key', message: secretKeyMessage(key) }] });
      return write(caller, slug, { required: false, ifMatch }, (current) => ({ ...current, [key]: value }), (name) => (name === key ? 'body/value' : `configuration/${name}`));
    },

    /** Removes one property; If-Match optional; a missing key is a 404. */
    async remove(caller: UserCaller, slug: string, key: string, ifMatch: string | undefined): Promise<ConfigurationAnswer> {
      return write(caller, slug, { required: false, ifMatch }, (current) => {
        if (!Object.hasOwn(current, key)) throw httpError('not_found', `The configuration has no property "${key}".`);
        const { [key]: _removed, ...rest } = current;
        return rest;
      }, null);
    },
  };
}

/** Records one audit entry per key that changed; answers whether anything did. */
async function auditChanges(
  trx: Transaction<WorkspacesDatabase>,
  caller: UserCaller,
  workspace: { id: string; slug: string },
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Promise<boolean> {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  let changed = false;
  for (const key of keys) {
    const had = Object.hasOwn(before, key);
    const has = Object.hasOwn(after, key);
    if (had && has && isDeepStrictEqual(before[key], after[key])) continue;
    changed = true;
    await recordAudit(trx, {
      workspaceId: workspace.id,
      workspaceSlug: workspace.slug,
      actor: auditActor(caller),
      action: has ? 'configuration.property-set' : 'configuration.property-deleted',
      target: key,
      ...(had ? { before: before[key] } : {}),
      ...(has ? { after: after[key] } : {}),
    });
  }
  return changed;
}

export type ConfigurationService = ReturnType<typeof createConfigurationService>;
