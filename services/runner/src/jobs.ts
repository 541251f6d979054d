import { jobKeyOf, type Processors } from '@hexa/kit';
import type { RunExecutor } from './modules/runs/run-executor.js';

/** The runner queue's processors: thin adapters over the executor. */
export function runnerProcessors(deps: { executor: RunExecutor }): Processors<'runner'> {
  return {
    // The run's id is a nudge: the scheduler starts whatever may start, this run included when its workspace has room.
    'run.requested': async () => deps.executor.schedule(),
    'workspace.archived': async (payload, job) => deps.executor.archive(payload, jobKeyOf(job)),
  };
}
