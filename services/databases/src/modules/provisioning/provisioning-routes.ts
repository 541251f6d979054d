import type { Schemas } from '@hexa/contract';
import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { ProvisioningService } from './provisioning-service.js';

export function provisioningHandlers(provisioning: ProvisioningService): Pick<OperationHandlers<'databases'>, 'getWorkspaceDatabase' | 'retryWorkspaceDatabase'> {
  return {
    getWorkspaceDatabase: async ({ caller, params }) => {
      requireUser(caller);
      return { status: 200, body: await provisioning.describe(params.slug) };
    },
    retryWorkspaceDatabase: async ({ caller, params, idempotency }) => {
      const answer = (database: Schemas['WorkspaceDatabase']) => ({ status: 202 as const, body: database });
      return answer(await provisioning.retry(requireUser(caller), params.slug, idempotency && ((trx, database) => idempotency.answerIn(trx, answer(database)))));
    },
  };
}
