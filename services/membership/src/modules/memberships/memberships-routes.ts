import type { FastifyInstance } from 'fastify';
import { componentSchema } from '@hexa/contract';
import { authenticate, httpError } from '@hexa/kit';
import type { MembershipsService } from './memberships-service.js';

const uuid = { type: 'string', format: 'uuid' } as const;
const slug = componentSchema('Slug');

/**
 * Internal operations, not part of the public contract: only other services
 * (the gateway, the workspaces service) call them, with a service token.
 */
export function registerMembershipInternalRoutes(root: FastifyInstance, deps: { memberships: MembershipsService; internalSecret: string }): void {
  // An encapsulated plugin: the guard applies to exactly these routes, whatever the URL's spelling.
  root.register(async (app) => {
  app.addHook('onRequest', async (request) => {
    const caller = await authenticate(request, deps.internalSecret, 'membership');
    if (caller.kind !== 'service') throw httpError('forbidden', 'Internal operations are for services only.');
  });

  app.get<{ Params: { userId: string }; Querystring: { workspace?: string } }>('/internal/access/:userId', {
    schema: {
      params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
      querystring: { type: 'object', additionalProperties: false, properties: { workspace: slug } },
    },
  }, async (request) => deps.memberships.resolveAccess(request.params.userId, request.query.workspace));

  app.get<{ Params: { userId: string } }>('/internal/users/:userId/memberships', {
    schema: { params: { type: 'object', required: ['userId'], properties: { userId: uuid } } },
  }, async (request) => ({ items: await deps.memberships.listUserMemberships(request.params.userId) }));

  app.put<{ Params: { slug: string; userId: string }; Body: { workspaceId: string } }>('/internal/workspaces/:slug/creator/:userId', {
    schema: {
      params: { type: 'object', required: ['slug', 'userId'], properties: { slug, userId: uuid } },
      body: { type: 'object', additionalProperties: false, required: ['workspaceId'], properties: { workspaceId: uuid } },
    },
  }, async (request) => {
    const outcome = await deps.memberships.grantCreatorAdmin({ workspaceSlug: request.params.slug, workspaceId: request.body.workspaceId, userId: request.params.userId });
    return { outcome };
  });
  });
}
