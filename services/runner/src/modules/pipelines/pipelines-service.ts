import type { Kysely, Selectable, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { auditActor, httpError, isUniqueViolation, recordAudit, type ServiceClient, type UserCaller } from '@hexa/kit';
import type { PipelinesTable, RunnerDatabase } from '../../database.js';

export interface RunLimits {
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  defaultMemoryMb: number;
  maxMemoryMb: number;
  defaultCpus: number;
  maxCpus: number;
}

export function toPipeline(row: Selectable<PipelinesTable>): Schemas['Pipeline'] {
  return {
    code: row.code,
    name: row.name,
    description: row.description,
    command: typeof row.command === 'string' ? (JSON.parse(row.command) as string[]) : (row.command as unknown as string[]),
    timeoutSeconds: row.timeout_seconds,
    memoryMb: row.memory_mb,
    cpus: Number(row.cpus),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Refuses limits above the platform's maxima, naming each field. */
function assertWithinMaxima(input: { timeoutSeconds?: number; memoryMb?: number; cpus?: number }, limits: RunLimits): void {
  const errors = [
    input.timeoutSeconds !== undefined && input.timeoutSeconds > limits.maxTimeoutSeconds ? { field: 'body/timeoutSeconds', message: `must be at most ${limits.maxTimeoutSeconds}` } : undefined,
    input.memoryMb !== undefined && input.memoryMb > limits.maxMemoryMb ? { field: 'body/memoryMb', message: `must be at most ${limits.maxMemoryMb}` } : undefined,
    input.cpus !== undefined && input.cpus > limits.maxCpus ? { field: 'body/cpus', message: `must be at most ${limits.maxCpus}` } : undefined,
  ].filter((error) => error !== undefined);
  if (errors.length > 0) throw httpError('invalid_input', errors.map((error) => `${error.field.slice(5)} ${error.message}`).join('; '), { errors });
}

export async function findPipeline(db: Kysely<RunnerDatabase>, slug: string, code: string): Promise<Selectable<PipelinesTable> | undefined> {
  return db.selectFrom('pipelines').selectAll().where('workspace_slug', '=', slug).where('code', '=', code).executeTakeFirst();
}

/** Pipelines: named commands with their limits, per workspace (Editors create and change them, Admins delete). */
export function createPipelinesService(deps: { db: Kysely<RunnerDatabase>; workspaces: ServiceClient<'workspaces'>; limits: RunLimits }) {
  const { db, workspaces, limits } = deps;

  async function getRow(slug: string, code: string): Promise<Selectable<PipelinesTable>> {
    const row = await findPipeline(db, slug, code);
    if (!row) throw httpError('not_found', `No pipeline ${code} in this workspace.`);
    return row;
  }

  return {
    async list(slug: string): Promise<Schemas['Pipeline'][]> {
      const rows = await db.selectFrom('pipelines').selectAll().where('workspace_slug', '=', slug).orderBy('code').execute();
      return rows.map(toPipeline);
    },

    async get(slug: string, code: string): Promise<Schemas['Pipeline']> {
      return toPipeline(await getRow(slug, code));
    },

    /**
     * Creates a pipeline in a workspace that is not archived. `inTransaction`
     * sees the new pipeline in the creating transaction: the idempotent answer
     * commits with it.
     */
    async create(
      caller: UserCaller,
      slug: string,
      input: Schemas['PipelineInput'],
      inTransaction?: (trx: Transaction<RunnerDatabase>, pipeline: Schemas['Pipeline']) => Promise<void>,
    ): Promise<Schemas['Pipeline']> {
      assertWithinMaxima(input, limits);
      const context = await workspaces.call('getRunContext', { params: { slug } });
      if (context.archived) throw httpError('workspace_not_found');
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await trx
            .insertInto('pipelines')
            .values({
              workspace_id: context.workspaceId,
              workspace_slug: slug,
              code: input.code,
              name: input.name,
              description: input.description ?? '',
              command: JSON.stringify(input.command),
              timeout_seconds: input.timeoutSeconds ?? Math.min(limits.defaultTimeoutSeconds, limits.maxTimeoutSeconds),
              memory_mb: input.memoryMb ?? Math.min(limits.defaultMemoryMb, limits.maxMemoryMb),
              cpus: input.cpus ?? Math.min(limits.defaultCpus, limits.maxCpus),
              created_by: caller.userId,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await recordAudit(trx, { workspaceId: context.workspaceId, workspaceSlug: slug, actor: auditActor(caller), action: 'pipeline.created', target: input.code });
          const pipeline = toPipeline(row);
          if (inTransaction) await inTransaction(trx, pipeline);
          return pipeline;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw httpError('conflict', `A pipeline with the code ${input.code} exists in this workspace.`);
        throw error;
      }
    },

    async update(caller: UserCaller, slug: string, code: string, input: Schemas['PipelineUpdate']): Promise<Schemas['Pipeline']> {
      assertWithinMaxima(input, limits);
      const current = await getRow(slug, code);
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('pipelines')
          .set({
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.command !== undefined ? { command: JSON.stringify(input.command) } : {}),
            ...(input.timeoutSeconds !== undefined ? { timeout_seconds: input.timeoutSeconds } : {}),
            ...(input.memoryMb !== undefined ? { memory_mb: input.memoryMb } : {}),
            ...(input.cpus !== undefined ? { cpus: input.cpus } : {}),
            updated_at: sql<Date>`now()`,
          })
          .where('workspace_id', '=', current.workspace_id)
          .where('code', '=', code)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw httpError('not_found', `No pipeline ${code} in this workspace.`);
        await recordAudit(trx, { workspaceId: current.workspace_id, workspaceSlug: slug, actor: auditActor(caller), action: 'pipeline.updated', target: code, before: toPipeline(current), after: toPipeline(row) });
        return toPipeline(row);
      });
    },

    async remove(caller: UserCaller, slug: string, code: string): Promise<void> {
      const current = await getRow(slug, code);
      await db.transaction().execute(async (trx) => {
        const live = await trx
          .selectFrom('runs')
          .select('id')
          .where('workspace_id', '=', current.workspace_id)
          .where('pipeline_code', '=', code)
          .where('status', 'in', ['queued', 'running'])
          .executeTakeFirst();
        if (live) throw httpError('conflict', 'A run of this pipeline is queued or running; cancel it or wait until it ends.');
        await trx.deleteFrom('pipelines').where('workspace_id', '=', current.workspace_id).where('code', '=', code).execute();
        await recordAudit(trx, { workspaceId: current.workspace_id, workspaceSlug: slug, actor: auditActor(caller), action: 'pipeline.deleted', target: code });
      });
    },
  };
}

export type PipelinesService = ReturnType<typeof createPipelinesService>;
