import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { UsersService } from './users-service.js';

export function usersHandlers(users: UsersService): Pick<OperationHandlers<'membership'>, 'getMe' | 'createUser'> {
  return {
    getMe: async ({ caller }) => ({ status: 200, body: await users.getMe(requireUser(caller)) }),
    createUser: async ({ caller, body, idempotency }) => ({
      status: 201,
      body: await users.createUser(requireUser(caller), body, idempotency && ((trx, user) => idempotency.answerIn(trx, { status: 201, body: user }))),
    }),
  };
}
