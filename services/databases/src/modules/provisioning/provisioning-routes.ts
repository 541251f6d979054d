import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { ProvisioningService } from './provisioning-service.js';

export function provisioningHandlers(provisioning: ProvisioningService): Pick<OperationHandlers<'databases'>, 'getWorkspaceDatabase' | 'retryWorkspaceDatabase'> {
  return {
    getWorkspaceDatabase: async ({ caller, params }) => {
      requireUser(caller);
      return { status: 200, body: await provisioning.describe(params.slug) };
    },
    retryWorkspaceDatabase: async ({ caller, params }) => ({ status: 202, body: await provisioning.retry(requireUser(caller), params.slug) }),
  };
}
