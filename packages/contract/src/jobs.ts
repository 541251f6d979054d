/**
 * The job contract: every queue, the jobs it carries and their payloads.
 * Payloads carry ids, never secrets.
 *
 * @example
 * const job: JobPayload<'databases', 'workspace.created'> = { workspaceId, slug };
 */
export interface JobContract {
  /** Consumed by the databases service (a later issue): provision the workspace's database. */
  databases: {
    'workspace.created': { workspaceId: string; slug: string };
  };
  /** Consumed by the membership worker: make sure the creator is the workspace's Admin. */
  membership: {
    'workspace.created': { workspaceId: string; slug: string; createdBy: string };
  };
}

export type QueueName = keyof JobContract;
export type JobName<Q extends QueueName> = keyof JobContract[Q] & string;
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobContract[Q][N];

export const queueNames = ['databases', 'membership'] as const satisfies readonly QueueName[];
