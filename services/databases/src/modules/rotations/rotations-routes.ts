import type { Schemas } from '@hexa/contract';
import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { RotationsService } from './rotations-service.js';

export function rotationsHandlers(rotations: RotationsService): Pick<OperationHandlers<'databases'>, 'rotateWorkspaceDatabasePassword' | 'getWorkspaceDatabasePasswordRotation'> {
  return {
    rotateWorkspaceDatabasePassword: async ({ caller, params, idempotency }) => {
      const answer = (rotation: Schemas['PasswordRotation']) => ({ status: 202 as const, body: rotation, headers: { location: `/api/workspaces/${params.slug}/database/password-rotations/${rotation.id}` } });
      return answer(await rotations.request(requireUser(caller), params.slug, idempotency && ((trx, rotation) => idempotency.answerIn(trx, answer(rotation)))));
    },
    getWorkspaceDatabasePasswordRotation: async ({ caller, params }) => {
      requireUser(caller);
      return { status: 200, body: await rotations.get(params.slug, params.id) };
    },
  };
}
