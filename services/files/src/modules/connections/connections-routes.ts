import { requireUser, type OperationHandlers } from '@hexa/kit';
import { connectionTypeInfos } from './connections-fns.js';
import type { ConnectionsService } from './connections-service.js';

type ConnectionHandlers = Pick<
  OperationHandlers<'files'>,
  'listConnectionTypes' | 'listWorkspaceConnections' | 'createWorkspaceConnection' | 'getWorkspaceConnection' | 'updateWorkspaceConnection' | 'deleteWorkspaceConnection' | 'testWorkspaceConnection' | 'getRunConnections'
>;

export function connectionsHandlers(connections: ConnectionsService): ConnectionHandlers {
  return {
    listConnectionTypes: async ({ caller }) => {
      requireUser(caller);
      return { status: 200, body: connectionTypeInfos };
    },
    listWorkspaceConnections: async ({ params }) => ({ status: 200, body: { items: await connections.list(params.slug) } }),
    createWorkspaceConnection: async ({ caller, params, body, idempotency }) => ({
      status: 201,
      body: await connections.create(requireUser(caller), params.slug, body, idempotency && ((trx, connection) => idempotency.answerIn(trx, { status: 201, body: connection }))),
    }),
    getWorkspaceConnection: async ({ params }) => ({ status: 200, body: await connections.get(params.slug, params.connection) }),
    updateWorkspaceConnection: async ({ caller, params, body }) => ({ status: 200, body: await connections.update(requireUser(caller), params.slug, params.connection, body) }),
    deleteWorkspaceConnection: async ({ caller, params }) => {
      await connections.remove(requireUser(caller), params.slug, params.connection);
      return { status: 204, body: undefined };
    },
    testWorkspaceConnection: async ({ params }) => ({ status: 200, body: await connections.test(params.slug, params.connection) }),
    // Internal: only the runner may ask (x-callers), when it starts a run's container.
    getRunConnections: async ({ params }) => ({ status: 200, body: await connections.runEnvironmentOf(params.slug), headers: { 'cache-control': 'no-store' } }),
  };
}
