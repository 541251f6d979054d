import type { Job } from 'bullmq';
import { jobKeyOf, type Processors } from '@hexa/kit';
import type { LifecycleService } from './modules/lifecycle/lifecycle-service.js';
import type { Attempt, ProvisioningService } from './modules/provisioning/provisioning-service.js';
import type { RotationsService } from './modules/rotations/rotations-service.js';

/** Whether this delivery is the job's last attempt (BullMQ counts the attempts already failed). */
function attemptOf(job: Job): Attempt {
  return { final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) };
}

/** The databases queue's processors: thin adapters over the services. */
export function databasesProcessors(deps: { provisioning: ProvisioningService; lifecycle: LifecycleService; rotations: RotationsService }): Processors<'databases'> {
  return {
    'workspace.created': async (payload, job) => {
      await deps.provisioning.accept(payload, jobKeyOf(job));
      // Also on a redelivery: the first delivery may have died between two steps.
      await deps.provisioning.run(payload.workspaceId, attemptOf(job));
    },
    'provisioning.requested': async (payload, job) => deps.provisioning.run(payload.workspaceId, attemptOf(job)),
    'workspace.archived': async (payload, job) => deps.lifecycle.archive(payload, jobKeyOf(job)),
    'workspace.restored': async (payload, job) => deps.lifecycle.restore(payload, jobKeyOf(job)),
    'password-rotation.requested': async (payload, job) => deps.rotations.run(payload, attemptOf(job)),
  };
}
