import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { auditActor, decryptSecret, encryptSecret, httpError, needsReencryption, recordAudit, type Keyring, type UserCaller } from '@hexa/kit';
import type { ConnectionsTable, FilesDatabase, StoredField } from '../../database.js';
import { writableWorkspace, type WorkspaceDirectory } from '../workspaces/workspace-directory.js';
import { testPostgres, type TestOutcome } from './connection-test.js';
import { checkFields, envNameOf, slugFromName, testableTypes, type ConnectionType, type FieldInput } from './connections-fns.js';

type Row = Selectable<ConnectionsTable>;

/** What a secret's envelope is bound to: this connection's field, so envelopes cannot be swapped between rows or fields. */
const contextOf = (connectionId: string, code: string) => `connection/${connectionId}/${code}`;

/** A connection as the API shows it: every secret value masked (null). */
function toConnection(row: Row): Schemas['Connection'] {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    type: row.type as Schemas['ConnectionType'],
    description: row.description,
    fields: row.fields.map((field) => ({ code: field.code, secret: field.secret, value: field.secret ? null : (field.value ?? ''), env: envNameOf(row.slug, field.code) })),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Unique violations of the (workspace, slug) constraint. */
const isSlugTaken = (error: unknown) => (error as { code?: string; constraint?: string }).code === '23505';

/**
 * Connections: the binding checked the role (use / manage); this checks each
 * type's fields, keeps secret values only encrypted (the current key of the
 * keyring seals; anything written is sealed anew), never returns or logs them,
 * and records every change in the audit trail without values.
 */
export function createConnectionsService(deps: { db: Kysely<FilesDatabase>; directory: WorkspaceDirectory; keyring: Keyring; testTimeoutMs: number }) {
  const { db, directory, keyring, testTimeoutMs } = deps;

  function seal(connectionId: string, field: FieldInput & { value: string }): StoredField {
    return field.secret ? { code: field.code, secret: true, sealed: encryptSecret(keyring, field.value, contextOf(connectionId, field.code)) } : { code: field.code, secret: false, value: field.value };
  }

  function openField(connectionId: string, field: StoredField): string {
    return field.secret ? decryptSecret(keyring, field.sealed!, contextOf(connectionId, field.code)) : (field.value ?? '');
  }

  async function find(workspaceId: string, slug: string): Promise<Row> {
    const row = await db.selectFrom('connections').selectAll().where('workspace_id', '=', workspaceId).where('slug', '=', slug).executeTakeFirst();
    if (!row) throw httpError('connection_not_found', `No connection ${slug} in this workspace.`);
    return row;
  }

  /**
   * Refuses fields whose variable in runs another connection of the
   * workspace already has (`a-b` + `c` and `a` + `b_c` are both `A_B_C`: one
   * would silently replace the other). Takes the workspace's lock on
   * connections for the rest of the transaction, so that two writes cannot
   * both pass the check.
   */
  async function refuseVariableClash(trx: Kysely<FilesDatabase>, workspaceId: string, own: { id: string; slug: string }, fields: readonly { code: string }[]): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`connections/${workspaceId}`}, 0))`.execute(trx);
    // A connection with the same slug is left to the unique constraint: taken (409), or the next generated slug.
    const others = await trx.selectFrom('connections').select(['slug', 'fields']).where('workspace_id', '=', workspaceId).where('id', '!=', own.id).where('slug', '!=', own.slug).execute();
    const taken = new Map<string, string>();
    for (const other of others) for (const field of other.fields) taken.set(envNameOf(other.slug, field.code), `the field "${field.code}" of the connection ${other.slug}`);
    for (const [index, field] of fields.entries()) {
      const env = envNameOf(own.slug, field.code);
      const holder = taken.get(env);
      if (holder !== undefined) {
        throw httpError('connection_variable_clash', `The field "${field.code}" would be ${env} in runs, which ${holder} already is; change the code or the slug.`, {
          errors: [{ field: `body/fields/${index}/code`, message: `same environment variable as ${holder}` }],
        });
      }
    }
  }

  async function audit(trx: Kysely<FilesDatabase>, caller: UserCaller, workspace: { id: string; slug: string }, action: string, target: string, after?: unknown): Promise<void> {
    await recordAudit(trx, { workspaceId: workspace.id, workspaceSlug: workspace.slug, actor: auditActor(caller), action, target, ...(after === undefined ? {} : { after }) });
  }

  /** Values of every field, decrypted, by code: for the test and for runs, never for an answer. */
  function values(row: Row): Record<string, string> {
    return Object.fromEntries(row.fields.map((field) => [field.code, openField(row.id, field)]));
  }

  /** Every variable of the workspace's connections, values decrypted, and which are secret. */
  async function runEnvironment(workspaceId: string): Promise<{ variables: Record<string, string>; secretNames: string[] }> {
    const rows = await db.selectFrom('connections').selectAll().where('workspace_id', '=', workspaceId).orderBy('slug').execute();
    const variables: Record<string, string> = {};
    const secretNames: string[] = [];
    for (const row of rows) {
      for (const field of row.fields) {
        const name = envNameOf(row.slug, field.code);
        variables[name] = openField(row.id, field);
        if (field.secret) secretNames.push(name);
      }
    }
    return { variables, secretNames };
  }

  return {
    async list(slug: string): Promise<Schemas['Connection'][]> {
      const workspace = await directory.describe(slug);
      const rows = await db.selectFrom('connections').selectAll().where('workspace_id', '=', workspace.id).orderBy('name').orderBy('slug').execute();
      return rows.map(toConnection);
    },

    async get(slug: string, connection: string): Promise<Schemas['Connection']> {
      const workspace = await directory.describe(slug);
      return toConnection(await find(workspace.id, connection));
    },

    /**
     * Creates a connection, its slug from its name unless one is chosen.
     * `inTransaction` sees the new connection in the creating transaction:
     * the idempotent answer commits with it.
     */
    async create(
      caller: UserCaller,
      slug: string,
      input: Schemas['ConnectionInput'],
      inTransaction?: (trx: Transaction<FilesDatabase>, connection: Schemas['Connection']) => Promise<void>,
    ): Promise<Schemas['Connection']> {
      const workspace = await writableWorkspace(directory, slug);
      const missingValue = input.fields.findIndex((field) => field.value === undefined);
      if (missingValue >= 0) {
        throw httpError('connection_field_missing', `The field "${input.fields[missingValue]!.code}" has no value.`, { errors: [{ field: `body/fields/${missingValue}/value`, message: 'is required' }] });
      }
      const wanted = input.slug ?? slugFromName(input.name);
      checkFields(wanted, input.type, input.fields, (field) => field.value !== undefined);
      const id = randomUUID();
      const fields = input.fields.map((field) => seal(id, field as FieldInput & { value: string }));
      // A generated slug takes the next free one (`warehouse-2`); a chosen one that is taken is a 409.
      for (let attempt = 1; ; attempt += 1) {
        const candidate = input.slug !== undefined || attempt === 1 ? wanted : `${wanted.slice(0, 40 - String(attempt).length - 1)}-${attempt}`;
        try {
          return await db.transaction().execute(async (trx) => {
            await refuseVariableClash(trx, workspace.id, { id, slug: candidate }, input.fields);
            const inserted = await trx
              .insertInto('connections')
              .values({ id, workspace_id: workspace.id, slug: candidate, name: input.name, type: input.type, description: input.description ?? '', fields: JSON.stringify(fields) as never })
              .returningAll()
              .executeTakeFirstOrThrow();
            await audit(trx, caller, workspace, 'connection.created', candidate, { type: input.type, fields: input.fields.map((field) => ({ code: field.code, secret: field.secret })) });
            const connection = toConnection(inserted);
            if (inTransaction) await inTransaction(trx, connection);
            return connection;
          });
        } catch (error) {
          if (!isSlugTaken(error)) throw error;
          if (input.slug !== undefined) throw httpError('connection_exists', `The workspace already has a connection ${candidate}.`);
          if (attempt >= 100) throw httpError('connection_exists', `Too many connections named like ${input.name}; choose a slug.`);
        }
      }
    },

    async update(caller: UserCaller, slug: string, connection: string, input: Schemas['ConnectionUpdate']): Promise<Schemas['Connection']> {
      const workspace = await writableWorkspace(directory, slug);
      const row = await db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom('connections').selectAll().where('workspace_id', '=', workspace.id).where('slug', '=', connection).forUpdate().executeTakeFirst();
        if (!current) throw httpError('connection_not_found', `No connection ${connection} in this workspace.`);
        const before = new Map(current.fields.map((field) => [field.code, field]));
        let fields = current.fields;
        const changed: string[] = [];
        if (input.fields !== undefined) {
          for (const [index, field] of input.fields.entries()) {
            const previous = before.get(field.code);
            if (previous?.secret && !field.secret) {
              throw httpError('secret_required', `The field "${field.code}" is secret; it cannot become visible. Delete it and add it again to change that.`, {
                errors: [{ field: `body/fields/${index}/secret`, message: 'was secret' }],
              });
            }
            if (field.value === undefined && !(field.secret && previous?.secret)) {
              throw httpError('connection_field_missing', `The field "${field.code}" has no value (only a secret field that exists keeps its value when none is sent).`, {
                errors: [{ field: `body/fields/${index}/value`, message: 'is required' }],
              });
            }
          }
          checkFields(current.slug, current.type as Schemas['ConnectionType'], input.fields, (field) => field.value !== undefined || Boolean(field.secret && before.get(field.code)?.secret));
          fields = input.fields.map((field) => {
            const previous = before.get(field.code);
            if (field.value !== undefined) {
              if (!previous || previous.secret !== field.secret || (field.secret ? openField(current.id, previous) !== field.value : previous.value !== field.value)) changed.push(field.code);
              return seal(current.id, field as FieldInput & { value: string });
            }
            // A secret kept as it is: written again under the current key when an older one sealed it.
            return needsReencryption(keyring, previous!.sealed!) ? seal(current.id, { code: field.code, secret: true, value: openField(current.id, previous!) }) : previous!;
          });
          for (const code of before.keys()) if (!input.fields.some((field) => field.code === code)) changed.push(code);
          await refuseVariableClash(trx, workspace.id, current, input.fields);
        }
        const updated = await trx
          .updateTable('connections')
          .set({
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            fields: JSON.stringify(fields) as never,
            updated_at: sql`now()`,
          })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, caller, workspace, 'connection.updated', current.slug, {
          ...(input.name !== undefined && input.name !== current.name ? { name: input.name } : {}),
          ...(input.description !== undefined && input.description !== current.description ? { description: true } : {}),
          // Which fields changed, never their values.
          fieldsChanged: changed,
        });
        return updated;
      });
      return toConnection(row);
    },

    async remove(caller: UserCaller, slug: string, connection: string): Promise<void> {
      const workspace = await writableWorkspace(directory, slug);
      await db.transaction().execute(async (trx) => {
        const deleted = await trx.deleteFrom('connections').where('workspace_id', '=', workspace.id).where('slug', '=', connection).returning(['slug', 'type']).executeTakeFirst();
        if (!deleted) throw httpError('connection_not_found', `No connection ${connection} in this workspace.`);
        await audit(trx, caller, workspace, 'connection.deleted', deleted.slug, { type: deleted.type });
      });
    },

    async test(slug: string, connection: string): Promise<TestOutcome> {
      const workspace = await directory.describe(slug);
      const row = await find(workspace.id, connection);
      if (!testableTypes.has(row.type as ConnectionType)) throw httpError('connection_test_unsupported', `Testing a ${row.type} connection is not supported yet; PostgreSQL ones are.`);
      return testPostgres(values(row), testTimeoutMs);
    },

    /**
     * Every connection of a workspace as the environment of a run: each
     * field as `<SLUG>_<FIELD_CODE>` with its value decrypted, and the names
     * whose values are secret (the runner masks them in logs). For the
     * runner's internal operation only (archived workspaces included: the
     * runner decides what an archived workspace may run).
     */
    async runEnvironmentOf(slug: string): Promise<{ variables: Record<string, string>; secretNames: string[] }> {
      return runEnvironment((await directory.describe(slug)).id);
    },

    runEnvironment,

    /**
     * Seals again, under the current key, every secret that an older key
     * sealed (after a key is added in front of the ring); returns how many
     * connections changed. Values are never read out of the service.
     */
    async reencryptAll(): Promise<number> {
      let count = 0;
      const rows = await db.selectFrom('connections').select(['id']).execute();
      for (const { id } of rows) {
        const changed = await db.transaction().execute(async (trx) => {
          const row = await trx.selectFrom('connections').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
          if (!row || !row.fields.some((field) => field.secret && needsReencryption(keyring, field.sealed!))) return false;
          const fields = row.fields.map((field) => (field.secret && needsReencryption(keyring, field.sealed!) ? seal(row.id, { code: field.code, secret: true, value: openField(row.id, field) }) : field));
          await trx.updateTable('connections').set({ fields: JSON.stringify(fields) as never }).where('id', '=', id).execute();
          return true;
        });
        if (changed) count += 1;
      }
      return count;
    },
  };
}

export type ConnectionsService = ReturnType<typeof createConnectionsService>;
