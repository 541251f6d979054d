import { Readable } from 'node:stream';
import type { Schemas } from '@hexa/contract';
import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { LogEvent, RunsService } from './runs-service.js';

/** One server-sent event; data is JSON, so a newline in the output never breaks the framing. */
function sse(event: LogEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export function runsHandlers(
  runs: RunsService,
): Pick<OperationHandlers<'runner'>, 'launchPipeline' | 'listRuns' | 'getRun' | 'getRunLogs' | 'cancelRun' | 'resolveRunToken'> {
  return {
    launchPipeline: async ({ caller, params, body, idempotency }) => {
      const answer = (run: Schemas['Run']) => ({ status: 202 as const, body: run, headers: { location: `/api/workspaces/${params.slug}/runs/${run.id}` } });
      const run = await runs.launch(requireUser(caller), params.slug, params.code, body ?? {}, idempotency && ((trx, queued) => idempotency.answerIn(trx, answer(queued))));
      return answer(run);
    },
    listRuns: async ({ caller, params, query }) => ({ status: 200, body: await runs.list(requireUser(caller), params.slug, query) }),
    getRun: async ({ caller, params }) => ({ status: 200, body: await runs.get(requireUser(caller), params.slug, params.id) }),
    getRunLogs: async ({ caller, params, request, reply }) => {
      const user = requireUser(caller);
      if (!String(request.headers.accept ?? '').includes('text/event-stream')) return { status: 200, body: await runs.logs(params.slug, params.id) };
      // Unknown runs are refused before the stream starts (a 404, not an empty stream).
      await runs.logs(params.slug, params.id);
      const closed = new AbortController();
      // The answer's end (sent, or its connection gone) stops the follower: what it writes to is what matters.
      reply.raw.on('close', () => closed.abort());
      const events = runs.follow(user, params.slug, params.id, closed.signal);
      const stream = Readable.from((async function* () {
        for await (const event of events) yield sse(event);
      })());
      return {
        status: 200,
        // A stream is sent as it is: the JSON schema of the answer does not apply to it.
        body: stream as never,
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
      };
    },
    cancelRun: async ({ caller, params }) => ({ status: 202, body: await runs.cancel(requireUser(caller), params.slug, params.id) }),
    resolveRunToken: async ({ body }) => ({ status: 200, body: await runs.resolveToken(body.tokenHash) }),
  };
}
