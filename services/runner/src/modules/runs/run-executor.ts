import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { JobPayload, Schemas } from '@hexa/contract';
import { AppError, processOnce, workspaceFilesOwner, type JobKey, type ServiceClient } from '@hexa/kit';
import type { RunnerDatabase } from '../../database.js';
import { ImageUnavailable, labels, type DockerEngine } from '../engine/docker-engine.js';
import { bridgeGatewayOf, isLoopback, type DatabaseRelay } from '../engine/database-relay.js';
import { boundedAppend, generateRunToken, hashRunToken, maskedValues, maskSecrets, outcomeOf, runEnvironment, takeFlushable } from './runs-fns.js';
import { commandOf, findRun, isLive, parametersOf, type RunRow } from './runs-repository.js';

/** After a container exits, its output stream gets this long to deliver what remains. */
const logDrainMs = 3000;

export interface ExecutorSettings {
  instance: string;
  filesDir: string;
  serverUrl: string;
  concurrencyPerWorkspace: number;
  pidsLimit: number;
  logMaxBytes: number;
  pullTimeoutMs: number;
  stopGraceSeconds: number;
  logFlushIntervalMs: number;
  tokenBytes: number;
  databaseHostInContainer: string;
  network: string;
}

type Stop = { kind: 'canceled'; reason: string } | { kind: 'timed_out'; timeoutSeconds: number };

interface Watched {
  containerId: string;
  stop?: Stop;
  timer?: NodeJS.Timeout;
  done: Promise<void>;
}

interface Log {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/**
 * The worker's side of runs: claims queued runs within each workspace's
 * concurrency limit, starts their containers, stores their output (bounded,
 * masked), stops them when canceled or out of time, records how they ended,
 * and after a restart adopts the containers of runs still live.
 */
export function createRunExecutor(deps: {
  db: Kysely<RunnerDatabase>;
  engine: DockerEngine;
  workspaces: ServiceClient<'workspaces'>;
  databases: ServiceClient<'databases'>;
  files: ServiceClient<'files'>;
  relay: DatabaseRelay;
  /** Tells gateways that a run of this user ended (they drop its cached token); best effort, never throws. */
  announceRunEnded: (userId: string) => Promise<void>;
  settings: ExecutorSettings;
  workerId: string;
  log: Log;
}) {
  const { db, engine, settings, workerId, log } = deps;
  const watched = new Map<string, Watched>();
  const starting = new Set<string>();
  let closed = false;

  /**
   * Ends a live run once: the first writer wins; the token stops working with
   * it, and gateways are told to drop what they cached of it.
   */
  async function finish(runId: string, outcome: { status: Schemas['RunStatus']; reason: string | null; exitCode?: number | null }): Promise<boolean> {
    const ended = await db
      .updateTable('runs')
      .set({ status: outcome.status, reason: outcome.reason, exit_code: outcome.exitCode ?? null, finished_at: sql<Date>`now()`, token_hash: null, updated_at: sql<Date>`now()` })
      .where('id', '=', runId)
      .where('status', 'in', ['queued', 'running'])
      .returning('launched_by')
      .executeTakeFirst();
    if (!ended) return false;
    log.info({ runId, status: outcome.status, reason: outcome.reason }, 'run ended');
    // Not awaited: a Redis that is down must not hold up the run's end (the cache's lifetime covers a lost announcement).
    void deps.announceRunEnded(ended.launched_by);
    return true;
  }

  /** Takes the queued runs each workspace has room for, oldest first, for this worker. */
  async function claim(): Promise<RunRow[]> {
    // A cancel that reached a run while it was taken, by a worker that then died: it ends here, never started.
    await db
      .updateTable('runs')
      .set((eb) => ({ status: 'canceled', reason: eb.fn.coalesce('cancel_reason', sql<string>`'Canceled'`), finished_at: sql<Date>`now()`, token_hash: null, updated_at: sql<Date>`now()` }))
      .where('status', '=', 'queued')
      .where('claimed_by', 'is', null)
      .where('cancel_requested_at', 'is not', null)
      .execute();
    return db.transaction().execute(async (trx) => {
      // One scheduler at a time decides: the limit is counted without a race.
      await sql`select pg_advisory_xact_lock(hashtext(${`hexa-runner-claims-${settings.instance}`}))`.execute(trx);
      const live = await trx
        .selectFrom('runs')
        .select(['id', 'workspace_id', 'status', 'claimed_by', 'created_at'])
        .where('status', 'in', ['queued', 'running'])
        .where('cancel_requested_at', 'is', null)
        .orderBy('created_at')
        .execute();
      const active = new Map<string, number>();
      for (const run of live) if (run.status === 'running' || run.claimed_by !== null) active.set(run.workspace_id, (active.get(run.workspace_id) ?? 0) + 1);
      const chosen: string[] = [];
      for (const run of live) {
        if (run.status !== 'queued' || run.claimed_by !== null) continue;
        const count = active.get(run.workspace_id) ?? 0;
        if (count >= settings.concurrencyPerWorkspace) continue;
        active.set(run.workspace_id, count + 1);
        chosen.push(run.id);
      }
      if (chosen.length === 0) return [];
      return trx.updateTable('runs').set({ claimed_by: workerId, claimed_at: sql<Date>`now()`, updated_at: sql<Date>`now()` }).where('id', 'in', chosen).returningAll().execute();
    });
  }

  async function filesFolder(workspaceId: string): Promise<string> {
    const folder = join(settings.filesDir, workspaceId);
    await mkdir(folder, { recursive: true });
    // The container runs as the run user; the folder must be theirs (only root may give it away).
    const owner = workspaceFilesOwner();
    if (owner) await chown(folder, owner.uid, owner.gid);
    return folder;
  }

  /** Where a container reaches the workspace database: through the relay when the cluster listens on loopback only. */
  async function databaseEndpoint(credentials: Schemas['DatabaseCredentials']): Promise<{ host: string; port: number; relayed: boolean }> {
    if (!isLoopback(credentials.host)) return { host: credentials.host, port: credentials.port, relayed: false };
    const port = await deps.relay.portFor({ host: credentials.host, port: credentials.port });
    return { host: settings.databaseHostInContainer, port, relayed: true };
  }

  /** An adopted run reaches its database where it was told to: the relay listens on that port again. */
  async function relayAgain(info: { Config: { Env?: string[] | null; Labels?: Record<string, string> | null } }, runId: string): Promise<void> {
    const target = info.Config.Labels?.[labels.databaseRelay]?.match(/^(.+):(\d+)$/);
    const port = Number((info.Config.Env ?? []).find((entry) => entry.startsWith('WORKSPACE_DATABASE_PORT='))?.split('=')[1]);
    if (!target || !Number.isInteger(port)) return;
    const opened = await deps.relay.portFor({ host: target[1]!, port: Number(target[2]) }, port).catch((error: unknown) => {
      log.warn({ runId, err: error }, "could not relay an adopted run's database again");
      return undefined;
    });
    if (opened !== undefined && opened !== port) log.warn({ runId, port, opened }, "an adopted run's database is relayed on another port than the one it was given");
  }

  async function start(row: RunRow): Promise<void> {
    try {
      // Four answers the start needs, independent of each other: asked at once, judged in this order.
      const [contextAnswer, credentialsAnswer, connectionsAnswer, imageAnswer] = await Promise.allSettled([
        deps.workspaces.call('getRunContext', { params: { slug: row.workspace_slug } }),
        deps.databases.call('getRunDatabaseCredentials', { params: { slug: row.workspace_slug } }),
        // The workspace's connections, as variables; their secret values are masked like the password.
        deps.files.call('getRunConnections', { params: { slug: row.workspace_slug } }),
        engine.ensureImage(row.image, settings.pullTimeoutMs),
      ]);
      const context = settled(contextAnswer);
      if (context.archived) {
        await finish(row.id, { status: 'canceled', reason: 'The workspace was archived' });
        return;
      }
      if (credentialsAnswer.status === 'rejected' && credentialsAnswer.reason instanceof AppError && credentialsAnswer.reason.status < 500) {
        await finish(row.id, { status: 'failed', reason: `The workspace's database is not available to runs (${credentialsAnswer.reason.message})` });
        return;
      }
      const credentials: Schemas['DatabaseCredentials'] = settled(credentialsAnswer);
      const connections = settled(connectionsAnswer);
      if (imageAnswer.status === 'rejected' && imageAnswer.reason instanceof ImageUnavailable) {
        await finish(row.id, { status: 'failed', reason: imageAnswer.reason.message });
        return;
      }
      const imageId = settled(imageAnswer);
      const endpoint = await databaseEndpoint(credentials);
      const token = generateRunToken(settings.tokenBytes);
      const masked = ['WORKSPACE_DATABASE_PASSWORD', 'HEXA_TOKEN', ...connections.secretNames];
      await db
        .updateTable('runs')
        .set({ token_hash: hashRunToken(token), image_digest: imageId, masked_variables: masked, updated_at: sql<Date>`now()` })
        .where('id', '=', row.id)
        .where('status', '=', 'queued')
        .execute();
      const environment = runEnvironment({
        serverUrl: settings.serverUrl,
        slug: row.workspace_slug,
        runId: row.id,
        pipelineCode: row.pipeline_code,
        token,
        configuration: context.configuration,
        parameters: parametersOf(row),
        database: { host: endpoint.host, port: endpoint.port, dbName: credentials.dbName, username: credentials.username, password: credentials.password },
        connections: connections.variables,
      });
      const containerId = await engine.createRunContainer({
        name: `${settings.instance}-run-${row.id}`,
        image: imageId,
        command: commandOf(row),
        env: environment,
        labels: {
          [labels.instance]: settings.instance,
          [labels.workspace]: row.workspace_id,
          [labels.run]: row.id,
          'hexa.workspace-slug': row.workspace_slug,
          ...(endpoint.relayed ? { [labels.databaseRelay]: `${credentials.host}:${credentials.port}` } : {}),
        },
        memoryMb: row.memory_mb,
        cpus: Number(row.cpus),
        pidsLimit: settings.pidsLimit,
        filesDir: await filesFolder(row.workspace_id),
        network: settings.network,
      });
      await db.updateTable('runs').set({ container_id: containerId }).where('id', '=', row.id).execute();
      await engine.start(containerId);
      const running = await db
        .updateTable('runs')
        .set({ status: 'running', started_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', row.id)
        .where('status', '=', 'queued')
        .where('cancel_requested_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!running) {
        // Canceled (or archived) while it was being started: it never runs.
        await engine.remove(containerId);
        const now = await findRun(db, row.id);
        if (now && isLive(now.status)) await finish(row.id, { status: 'canceled', reason: now.cancel_reason ?? 'Canceled' });
        return;
      }
      watch(running, containerId, maskedValues(environment, masked));
    } catch (error) {
      // A service that is down is waited for: the run stays queued and is taken again on a later tick.
      if (error instanceof AppError && error.code === 'service_unavailable') {
        log.warn({ runId: row.id, err: error }, 'run could not start yet; it stays queued');
        await db.updateTable('runs').set({ claimed_by: null, claimed_at: null }).where('id', '=', row.id).where('status', '=', 'queued').execute().catch(() => undefined);
        return;
      }
      log.warn({ runId: row.id, err: error }, 'run could not start');
      await finish(row.id, { status: 'failed', reason: `The run could not start: ${(error as Error).message.slice(0, 300)}` }).catch(() => undefined);
    }
  }

  /** Stores the container's output as it comes: whole lines, masked, bounded; skipping what an earlier worker stored. */
  async function collect(runId: string, containerId: string, secrets: string[], ended: Promise<unknown>): Promise<void> {
    const stored = await db.selectFrom('run_logs').select(['text', 'truncated', 'consumed']).where('run_id', '=', runId).executeTakeFirst();
    // The limit counts bytes (UTF-8), as RUN_LOG_MAX_BYTES says.
    let bytes = Buffer.byteLength(stored?.text ?? '');
    let truncated = stored?.truncated ?? false;
    let skip = Number(stored?.consumed ?? 0);
    let pending = '';
    let finished = false;
    let flushing: Promise<void> = Promise.resolve();

    const flush = (final: boolean) => {
      flushing = flushing.then(async () => {
        const { flush: raw, rest } = takeFlushable(pending, final);
        pending = rest;
        if (raw.length === 0) return;
        const next = boundedAppend(bytes, truncated, maskSecrets(raw, secrets), settings.logMaxBytes);
        bytes += Buffer.byteLength(next.append);
        truncated = next.truncated;
        await db
          .updateTable('run_logs')
          .set({ text: sql<string>`text || ${next.append}`, truncated: next.truncated, consumed: sql<number>`consumed + ${raw.length}` })
          .where('run_id', '=', runId)
          .execute();
      }).catch((error) => log.warn({ runId, err: error }, 'could not store run output'));
      return flushing;
    };

    const stream = await engine.follow(containerId);
    stream.setEncoding('utf8');
    const timer = setInterval(() => void flush(false), settings.logFlushIntervalMs);
    const streamEnded = new Promise<void>((resolve) => {
      stream.on('data', (chunk: string) => {
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.length);
          skip -= dropped;
          chunk = chunk.slice(dropped);
        }
        // Past the limit nothing more is kept; only the count of what went by.
        if (truncated) {
          void db.updateTable('run_logs').set({ consumed: sql<number>`consumed + ${chunk.length}` }).where('run_id', '=', runId).execute().catch(() => undefined);
          return;
        }
        pending += chunk;
      });
      stream.on('end', resolve);
      stream.on('error', () => resolve());
      stream.on('close', resolve);
    });
    await ended;
    await Promise.race([streamEnded, new Promise((resolve) => setTimeout(resolve, logDrainMs))]);
    finished = true;
    clearInterval(timer);
    stream.destroy();
    await flush(finished);
  }

  /**
   * Follows a running container to its end. A run whose cancel was asked for
   * before it was watched (by an adopting worker) ends canceled, stopped now if
   * it still runs; a container that already exited gets no timer (how it
   * exited is its outcome).
   */
  function watch(row: RunRow, containerId: string, secrets: string[], exited = false): void {
    if (watched.has(row.id)) return;
    const entry: Watched = { containerId, done: Promise.resolve() };
    watched.set(row.id, entry);
    if (row.cancel_requested_at) {
      entry.stop = { kind: 'canceled', reason: row.cancel_reason ?? 'Canceled' };
      if (!exited) void engine.stop(containerId, settings.stopGraceSeconds).catch((error) => log.warn({ runId: row.id, err: error }, 'could not stop a canceled run'));
    }
    const startedAt = row.started_at?.getTime() ?? Date.now();
    const remaining = startedAt + row.timeout_seconds * 1000 - Date.now();
    if (!exited) entry.timer = setTimeout(() => {
      if (entry.stop) return;
      entry.stop = { kind: 'timed_out', timeoutSeconds: row.timeout_seconds };
      void engine.stop(containerId, 0).catch((error) => log.warn({ runId: row.id, err: error }, 'could not stop a run out of time'));
    }, Math.max(0, remaining));
    entry.done = (async () => {
      try {
        const exited = engine.wait(containerId);
        await collect(row.id, containerId, secrets, exited).catch((error) => log.warn({ runId: row.id, err: error }, 'run output lost'));
        const state = await exited;
        if (closed) return;
        const outcome = state ? outcomeOf(state, entry.stop, row.memory_mb) : { status: 'failed' as const, reason: "The run's container disappeared" };
        await finish(row.id, { ...outcome, exitCode: state?.exitCode ?? null });
        await engine.remove(containerId);
      } catch (error) {
        if (!closed) log.warn({ runId: row.id, err: error }, 'watching a run failed');
      } finally {
        clearTimeout(entry.timer);
        watched.delete(row.id);
        // Room in its workspace: the next queued run may start.
        if (!closed) void schedule();
      }
    })();
  }

  let scheduling: Promise<void> | undefined;
  let again = false;

  /** Claims and starts what may start; concurrent calls fold into one pass (and one more after it). */
  function schedule(): Promise<void> {
    if (closed) return Promise.resolve();
    if (scheduling) {
      again = true;
      return scheduling;
    }
    scheduling = (async () => {
      do {
        again = false;
        const claimed = await claim();
        for (const row of claimed) {
          starting.add(row.id);
          void start(row).finally(() => starting.delete(row.id));
        }
      } while (again && !closed);
    })()
      .catch((error) => log.warn({ err: error }, 'scheduling runs failed; retrying'))
      .finally(() => {
        scheduling = undefined;
      });
    return scheduling;
  }

  /** Stops the containers of runs someone canceled (the API marks them; this worker owns the containers). */
  async function applyCancellations(): Promise<void> {
    const rows = await db.selectFrom('runs').select(['id', 'cancel_reason']).where('status', '=', 'running').where('cancel_requested_at', 'is not', null).execute();
    for (const row of rows) {
      const entry = watched.get(row.id);
      if (!entry || entry.stop) continue;
      entry.stop = { kind: 'canceled', reason: row.cancel_reason ?? 'Canceled' };
      void engine.stop(entry.containerId, settings.stopGraceSeconds).catch((error) => log.warn({ runId: row.id, err: error }, 'could not stop a canceled run'));
    }
  }

  return {
    schedule,
    applyCancellations,

    /** A tick of the worker: cancellations first, then whatever may start. */
    async tick(): Promise<void> {
      await applyCancellations();
      await schedule();
    },

    /**
     * After a (re)start: every container of this instance is matched with its
     * run. A live run's container is watched again (its output resumes where
     * it was stored; one that exited meanwhile is finished from its exit
     * state); a container of an ended or unknown run is removed; a running
     * run without a container failed; a claimed run that never started is
     * queued again.
     */
    async reconcile(): Promise<{ adopted: number; removed: number; lost: number; requeued: number }> {
      const result = { adopted: 0, removed: 0, lost: 0, requeued: 0 };
      const containers = await engine.listRunContainers(settings.instance);
      const seen = new Set<string>();
      for (const container of containers) {
        const run = container.runId ? await findRun(db, container.runId) : undefined;
        if (!run || !isLive(run.status) || run.status === 'queued') {
          // A queued run's container was made by a start that died before starting it: made again when it is.
          await engine.remove(container.id);
          result.removed += 1;
          continue;
        }
        seen.add(run.id);
        await db.updateTable('runs').set({ claimed_by: workerId, container_id: container.id }).where('id', '=', run.id).execute();
        // The secrets to mask: the token is only known as a hash now, so the values are read back from the container's environment.
        const info = await engine.docker.getContainer(container.id).inspect();
        await relayAgain(info, run.id);
        watch(run, container.id, maskedValues(info.Config.Env ?? [], run.masked_variables), !info.State.Running);
        result.adopted += 1;
      }
      const live = await db.selectFrom('runs').selectAll().where('status', 'in', ['queued', 'running']).where('claimed_by', 'is not', null).execute();
      for (const run of live) {
        if (seen.has(run.id) || starting.has(run.id) || watched.has(run.id)) continue;
        if (run.status === 'running') {
          if (await finish(run.id, { status: 'failed', reason: "The run's container was lost while the runner was down" })) result.lost += 1;
        } else {
          await db.updateTable('runs').set({ claimed_by: null, claimed_at: null, container_id: null }).where('id', '=', run.id).where('status', '=', 'queued').execute();
          result.requeued += 1;
        }
      }
      log.info(result, 'runs reconciled with the Docker engine');
      return result;
    },

    /** `workspace.archived`: queued runs end canceled, running ones are stopped (recorded once, applied by the ticks). */
    async archive(payload: JobPayload<'runner', 'workspace.archived'>, job: JobKey): Promise<void> {
      const reason = 'The workspace was archived';
      await processOnce(db, job, async (trx) => {
        await trx
          .updateTable('runs')
          .set({ status: 'canceled', reason, cancel_requested_at: sql<Date>`now()`, cancel_reason: reason, finished_at: sql<Date>`now()`, token_hash: null, updated_at: sql<Date>`now()` })
          .where('workspace_id', '=', payload.workspaceId)
          .where('status', '=', 'queued')
          .where('claimed_by', 'is', null)
          .execute();
        await trx
          .updateTable('runs')
          .set({ cancel_requested_at: sql<Date>`coalesce(cancel_requested_at, now())`, cancel_reason: sql<string>`coalesce(cancel_reason, ${reason})`, updated_at: sql<Date>`now()` })
          .where('workspace_id', '=', payload.workspaceId)
          .where('status', 'in', ['queued', 'running'])
          .execute();
      });
      await applyCancellations();
    },

    /** Stops watching; the containers go on running and the next worker adopts them. */
    async close(): Promise<void> {
      closed = true;
      for (const entry of watched.values()) clearTimeout(entry.timer);
      await scheduling;
    },

    watchedCount: () => watched.size,
  };
}

export type RunExecutor = ReturnType<typeof createRunExecutor>;

/** The value of a settled promise, or its reason thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/** The relay's listening address: the setting, or the default bridge's gateway as the engine describes it. */
export async function relayHostOf(setting: string, engine: DockerEngine): Promise<string> {
  if (setting) return setting;
  const network = await engine.docker.getNetwork('bridge').inspect();
  const host = bridgeGatewayOf((network as { IPAM?: { Config?: { Gateway?: string; Subnet?: string }[] } }).IPAM?.Config);
  if (!host) throw new Error('The Docker bridge network names no gateway; set RUN_DATABASE_RELAY_HOST to an address containers reach');
  return host;
}
