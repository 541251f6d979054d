import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import { messageOf } from '../api/errors';
import { EventStreamParser } from '../api/server-sent-events';
import type { Schemas } from '../api/client';

export type Run = Schemas['Run'];
export type RunStatus = Schemas['RunStatus'];
export interface RunFilter {
  pipeline?: string;
  status?: RunStatus;
}

/** Runs listed per page. */
export const runsPageSize = 50;
/** While a run is queued or running, its status (started, not yet ended) is read this often. */
export const runPollIntervalMs = 2000;
/** A log stream that closed before the run ended (a proxy's timeout, a restart) is opened again after this pause. */
export const reconnectDelayMs = 1000;

export const runStatusWords: Record<RunStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  canceled: 'Canceled',
  timed_out: 'Timed out',
};

export const isLive = (status: RunStatus) => status === 'queued' || status === 'running';

/**
 * How long a run took, or has been running until `now`; null before it started.
 *
 * @example
 * runDuration({ startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:05Z' }, Date.now()) // '1 min 5 s'
 */
export function runDuration(run: Pick<Run, 'startedAt' | 'finishedAt'>, now: number): string | null {
  if (!run.startedAt) return null;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  const seconds = Math.max(0, Math.round((end - Date.parse(run.startedAt)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * The workspace's runs (a page at a time, filtered by pipeline and status)
 * and the one run a page shows: its status followed while it is live, its
 * output streamed as it is written (server-sent events read through the
 * API client, which adds the token), and Cancel when the API says the
 * caller may (`canCancel`).
 */
export const useRunsStore = defineStore('runs', () => {
  const items = ref<Run[]>([]);
  const page = ref(1);
  const totalPages = ref(1);
  const totalItems = ref(0);
  const filter = ref<RunFilter>({});
  const loading = ref(false);
  const error = ref<string | null>(null);

  const run = ref<Run | null>(null);
  const runError = ref<string | null>(null);
  const logs = ref('');
  const logsError = ref<string | null>(null);
  /** True while the output is being followed live. */
  const following = ref(false);
  let stopFollowing: AbortController | undefined;

  async function load(workspace: string, wanted: RunFilter = filter.value, wantedPage = 1): Promise<void> {
    filter.value = wanted;
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/runs', {
        params: { path: { slug: workspace }, query: { ...wanted, page: wantedPage, perPage: runsPageSize } },
      });
      if (!data) throw new ApiError(problem);
      items.value = data.items;
      page.value = data.page;
      totalPages.value = Math.max(1, data.totalPages);
      totalItems.value = data.totalItems;
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  async function get(workspace: string, id: string): Promise<Run> {
    const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/runs/{id}', { params: { path: { slug: workspace, id } } });
    if (!data) throw new ApiError(problem);
    return data;
  }

  /**
   * Opens a run: reads it, then follows its output until it ends (the
   * stream's `end` event carries the run as it ended) while its status is
   * read every `pollMs` (the stream says when output arrives, not when the
   * container started). Resolves once the run has ended or `close()` was called.
   */
  async function open(workspace: string, id: string, pollMs = runPollIntervalMs, retryMs = reconnectDelayMs): Promise<void> {
    close();
    const controller = new AbortController();
    stopFollowing = controller;
    const { signal } = controller;
    if (run.value?.id !== id) run.value = null;
    runError.value = null;
    logs.value = '';
    logsError.value = null;
    try {
      run.value = await get(workspace, id);
    } catch (caught) {
      runError.value = messageOf(caught);
      return;
    }
    following.value = true;
    const poll = (async () => {
      while (!signal.aborted && run.value && isLive(run.value.status)) {
        await sleep(pollMs, signal);
        if (signal.aborted) return;
        await refresh(workspace, id, signal);
      }
    })();
    try {
      while (!signal.aborted) {
        const ended = await followOnce(workspace, id, signal);
        if (ended || signal.aborted || logsError.value) break;
        await sleep(retryMs, signal);
      }
    } finally {
      if (stopFollowing === controller) {
        following.value = false;
        controller.abort();
      }
      await poll;
    }
  }

  async function refresh(workspace: string, id: string, signal: AbortSignal): Promise<void> {
    const latest = await get(workspace, id).catch(() => null);
    // The stream's `end` may have arrived meanwhile: never step back from an ended run.
    if (latest && !signal.aborted && run.value && isLive(run.value.status)) run.value = latest;
  }

  /** One connection to the log stream; true once the `end` event arrived. The service sends the output from its start each time. */
  async function followOnce(workspace: string, id: string, signal: AbortSignal): Promise<boolean> {
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/runs/{id}/logs', {
        params: { path: { slug: workspace, id } },
        headers: { accept: 'text/event-stream' },
        parseAs: 'stream',
        signal,
      });
      if (!data) {
        logsError.value = new ApiError(problem).message;
        return false;
      }
      let text = '';
      const parser = new EventStreamParser();
      const reader = data.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        for (const event of parser.push(value)) {
          if (event.event === 'log') {
            text += JSON.parse(event.data) as string;
            logs.value = text;
            // Output means the container started: show it running now rather than at the next status read.
            if (run.value?.status === 'queued') void refresh(workspace, id, signal);
          } else if (event.event === 'end') {
            logs.value = text;
            run.value = JSON.parse(event.data) as Run;
            await reader.cancel().catch(() => undefined);
            return true;
          }
        }
      }
    } catch (caught) {
      // Closing the page aborts the read: that is not an error to show.
      if (signal.aborted) return false;
      if (caught instanceof TypeError) return false;
      logsError.value = messageOf(caught);
      return false;
    }
  }

  /** Stops following (the page closed); the run itself goes on. */
  function close(): void {
    stopFollowing?.abort();
    stopFollowing = undefined;
    following.value = false;
  }

  /** Cancels a queued or running run; the stream then ends with the run `canceled`. */
  async function cancel(workspace: string, id: string): Promise<Run> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/runs/{id}/cancel', { params: { path: { slug: workspace, id } } });
    if (!data) throw new ApiError(problem);
    if (run.value?.id === id) run.value = data;
    items.value = items.value.map((item) => (item.id === id ? data : item));
    return data;
  }

  return { items, page, totalPages, totalItems, filter, loading, error, run, runError, logs, logsError, following, load, get, open, close, cancel };
});
