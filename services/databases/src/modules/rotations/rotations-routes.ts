import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { RotationsService } from './rotations-service.js';

export function rotationsHandlers(rotations: RotationsService): Pick<OperationHandlers<'databases'>, 'rotateWorkspaceDatabasePassword' | 'getWorkspaceDatabasePasswordRotation'> {
  return {
    rotateWorkspaceDatabasePassword: async ({ caller, params }) => {
      const rotation = await rotations.request(requireUser(caller), params.slug);
      return { status: 202, body: rotation, headers: { location: `/api/workspaces/${params.slug}/database/password-rotations/${rotation.id}` } };
    },
    getWorkspaceDatabasePasswordRotation: async ({ caller, params }) => {
      requireUser(caller);
      return { status: 200, body: await rotations.get(params.slug, params.id) };
    },
  };
}
