import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { CredentialsService } from './credentials-service.js';

export function credentialsHandlers(credentials: CredentialsService): Pick<OperationHandlers<'databases'>, 'getWorkspaceDatabaseCredentials' | 'getRunDatabaseCredentials'> {
  return {
    getWorkspaceDatabaseCredentials: async ({ caller, params }) => ({
      status: 200,
      body: await credentials.read(requireUser(caller), params.slug),
      // A password: no cache along the way may keep it.
      headers: { 'cache-control': 'no-store' },
    }),
    getRunDatabaseCredentials: async ({ params }) => ({ status: 200, body: await credentials.readForRun(params.slug), headers: { 'cache-control': 'no-store' } }),
  };
}
