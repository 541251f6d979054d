import type { JobContract } from './generated/jobs.js';

export type { JobContract } from './generated/jobs.js';
export { queueNames } from './generated/jobs.js';

/**
 * The job contract (`x-jobs` of openapi.yaml): every queue, the jobs it
 * carries and their payloads. Payloads carry ids, never secrets.
 *
 * @example
 * const job: JobPayload<'databases', 'workspace.created'> = { workspaceId, slug, createdBy };
 */
export type QueueName = keyof JobContract;
export type JobName<Q extends QueueName> = keyof JobContract[Q] & string;
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobContract[Q][N];
