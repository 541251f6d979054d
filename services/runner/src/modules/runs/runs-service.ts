import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { auditActor, enqueueJob, httpError, recordAudit, type ServiceClient, type UserCaller } from '@hexa/kit';
import type { RunnerDatabase } from '../../database.js';
import { findPipeline, type RunLimits } from '../pipelines/pipelines-service.js';
import { findRun, isLive, readLogs, toRun, type RunRow } from './runs-repository.js';

/** Parameters serialised may not exceed this (they travel in one environment variable). */
const maxParametersChars = 16_384;
/** How often a follower of a live run's logs looks for more. */
const followIntervalMs = 250;

export type LogEvent = { event: 'log'; data: string } | { event: 'end'; data: Schemas['Run'] };

/** The outbox job that tells the worker a run was launched. */
const jobIdOf = (runId: string) => `run.requested-${runId}`;

/** Whether the caller may cancel the run: Editors and Admins, and whoever launched it. */
function mayCancel(caller: UserCaller, row: RunRow): boolean {
  const role = caller.workspace?.role;
  return role === 'EDITOR' || role === 'ADMIN' || caller.userId === row.launched_by;
}

/** Runs as the API sees them: launched here, started and watched by the worker. */
export function createRunsService(deps: {
  db: Kysely<RunnerDatabase>;
  workspaces: ServiceClient<'workspaces'>;
  /** The platform's maxima now: a pipeline saved under higher ones runs within these. */
  limits: Pick<RunLimits, 'maxTimeoutSeconds' | 'maxMemoryMb' | 'maxCpus'>;
  /** Publishes committed jobs at once (the outbox relay's `deliverNow`); the worker's relay delivers what this cannot. */
  deliverNow: (jobs: { queue: 'runner'; jobId: string }[]) => Promise<void>;
  onDeliveryError?: (error: unknown) => void;
}) {
  const { db, workspaces, limits } = deps;

  async function getRow(slug: string, id: string): Promise<RunRow> {
    const row = await findRun(db, id);
    if (!row || row.workspace_slug !== slug) throw httpError('not_found', 'No such run in this workspace.');
    return row;
  }

  return {
    /**
     * Records a queued run with everything it starts from (the workspace's
     * effective image now, the pipeline's command and limits now, each limit
     * clamped to the platform's maximum now, which may have been lowered since
     * the pipeline was saved), its job and its audit entry in one
     * transaction. The job carries the run's id only. `inTransaction` sees
     * the queued run in that transaction: the idempotent answer commits with
     * it.
     */
    async launch(
      caller: UserCaller,
      slug: string,
      code: string,
      input: Schemas['RunInput'],
      inTransaction?: (trx: Transaction<RunnerDatabase>, run: Schemas['Run']) => Promise<void>,
    ): Promise<Schemas['Run']> {
      const pipeline = await findPipeline(db, slug, code);
      if (!pipeline) throw httpError('not_found', `No pipeline ${code} in this workspace.`);
      const parameters = input.parameters ?? {};
      if (JSON.stringify(parameters).length > maxParametersChars) {
        throw httpError('invalid_input', `parameters may take at most ${maxParametersChars} characters as JSON`, { errors: [{ field: 'body/parameters', message: 'too large' }] });
      }
      const context = await workspaces.call('getRunContext', { params: { slug } });
      if (context.archived) throw httpError('workspace_not_found');
      if (context.imageNotAllowed) throw httpError('image_not_allowed', `${context.imageNotAllowed}. An Admin of the workspace chooses another image in its settings.`);
      const id = randomUUID();
      const run = await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('runs')
          .values({
            id,
            workspace_id: context.workspaceId,
            workspace_slug: slug,
            pipeline_code: code,
            command: JSON.stringify(pipeline.command),
            timeout_seconds: Math.min(pipeline.timeout_seconds, limits.maxTimeoutSeconds),
            memory_mb: Math.min(pipeline.memory_mb, limits.maxMemoryMb),
            cpus: Math.min(Number(pipeline.cpus), limits.maxCpus),
            parameters: JSON.stringify(parameters),
            image: context.image,
            image_digest: null,
            status: 'queued',
            exit_code: null,
            reason: null,
            launched_by: caller.userId,
            started_at: null,
            finished_at: null,
            claimed_by: null,
            claimed_at: null,
            container_id: null,
            token_hash: null,
            cancel_requested_at: null,
            cancel_reason: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx.insertInto('run_logs').values({ run_id: id }).execute();
        await enqueueJob(trx, 'runner', 'run.requested', { runId: id }, jobIdOf(id));
        await recordAudit(trx, { workspaceId: context.workspaceId, workspaceSlug: slug, actor: auditActor(caller), action: 'run.launched', target: id, after: { pipeline: code, image: context.image } });
        const queued = toRun(inserted, mayCancel(caller, inserted));
        if (inTransaction) await inTransaction(trx, queued);
        return queued;
      });
      // The worker hears of the run now rather than at its relay's next pass; the answer does not wait for it.
      void deps.deliverNow([{ queue: 'runner', jobId: jobIdOf(id) }]).catch((error: unknown) => deps.onDeliveryError?.(error));
      return run;
    },

    async list(caller: UserCaller, slug: string, query: { pipeline?: string; status?: Schemas['RunStatus']; page?: number; perPage?: number }) {
      const page = query.page ?? 1;
      const perPage = query.perPage ?? 50;
      let base = db.selectFrom('runs').where('workspace_slug', '=', slug);
      if (query.pipeline) base = base.where('pipeline_code', '=', query.pipeline);
      if (query.status) base = base.where('status', '=', query.status);
      const [rows, count] = await Promise.all([
        base.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(perPage).offset((page - 1) * perPage).execute(),
        base.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow(),
      ]);
      const totalItems = Number(count.count);
      return { items: rows.map((row) => toRun(row, mayCancel(caller, row))), page, perPage, totalItems, totalPages: Math.ceil(totalItems / perPage) };
    },

    async get(caller: UserCaller, slug: string, id: string): Promise<Schemas['Run']> {
      const row = await getRow(slug, id);
      return toRun(row, mayCancel(caller, row));
    },

    /**
     * A queued run ends `canceled` at once; a running one is marked and the
     * worker stops its container within a scheduling interval and a grace period.
     */
    async cancel(caller: UserCaller, slug: string, id: string): Promise<Schemas['Run']> {
      const current = await getRow(slug, id);
      if (!mayCancel(caller, current)) throw httpError('forbidden', 'Only Editors, Admins and whoever launched a run may cancel it.');
      const row = await db.transaction().execute(async (trx) => {
        const locked = await trx.selectFrom('runs').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
        if (!isLive(locked.status) || locked.cancel_requested_at) throw httpError('conflict', `This run is ${locked.cancel_requested_at && isLive(locked.status) ? 'already being canceled' : locked.status}; only a queued or running run can be canceled.`);
        const reason = 'Canceled by a user';
        const updated =
          // Not yet taken by the worker: it never starts. Taken: the worker sees the request before it would start it.
          locked.status === 'queued' && locked.claimed_by === null
            ? await trx
                .updateTable('runs')
                .set({ status: 'canceled', reason, cancel_requested_at: sql<Date>`now()`, cancel_reason: reason, finished_at: sql<Date>`now()`, token_hash: null, updated_at: sql<Date>`now()` })
                .where('id', '=', id)
                .returningAll()
                .executeTakeFirstOrThrow()
            : await trx
                .updateTable('runs')
                .set({ cancel_requested_at: sql<Date>`now()`, cancel_reason: reason, updated_at: sql<Date>`now()` })
                .where('id', '=', id)
                .returningAll()
                .executeTakeFirstOrThrow();
        await recordAudit(trx, { workspaceId: locked.workspace_id, workspaceSlug: slug, actor: auditActor(caller), action: 'run.canceled', target: id });
        return updated;
      });
      return toRun(row, mayCancel(caller, row));
    },

    async logs(slug: string, id: string): Promise<Schemas['RunLogs']> {
      const row = await getRow(slug, id);
      const logs = await readLogs(db, id);
      return { runId: id, status: row.status, text: logs.text, truncated: logs.truncated };
    },

    /** New output as it is stored, until the run has ended and everything was sent; then the run. */
    async *follow(caller: UserCaller, slug: string, id: string, signal: AbortSignal): AsyncGenerator<LogEvent> {
      let offset = 0;
      await getRow(slug, id);
      while (!signal.aborted) {
        // The run's state first: output stored before it ended is then surely read below.
        const row = await getRow(slug, id);
        const logs = await readLogs(db, id, offset);
        if (logs.text.length > 0) {
          offset += logs.text.length;
          yield { event: 'log', data: logs.text };
        }
        if (!isLive(row.status)) {
          yield { event: 'end', data: toRun(row, mayCancel(caller, row)) };
          return;
        }
        await sleep(followIntervalMs, undefined, { signal }).catch(() => undefined);
      }
    },

    /** The launcher and workspace of a live run's token; `404` once the run ended (its hash is cleared then). */
    async resolveToken(tokenHash: string): Promise<Schemas['RunTokenGrant']> {
      const row = await db.selectFrom('runs').select(['id', 'launched_by', 'workspace_slug', 'status']).where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!row || !isLive(row.status)) throw httpError('not_found', 'No live run has this token.');
      return { userId: row.launched_by, workspaceSlug: row.workspace_slug, runId: row.id };
    },
  };
}

export type RunsService = ReturnType<typeof createRunsService>;
