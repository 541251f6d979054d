import { accessChangedHeader, requireUser, type OperationHandlers } from '@hexa/kit';
import type { PersonalAccessTokensService } from './personal-access-tokens-service.js';

type TokenHandlers = Pick<
  OperationHandlers<'membership'>,
  'listPersonalAccessTokens' | 'createPersonalAccessToken' | 'deletePersonalAccessToken' | 'resolvePersonalAccessToken'
>;

export function personalAccessTokensHandlers(tokens: PersonalAccessTokensService): TokenHandlers {
  return {
    listPersonalAccessTokens: async ({ caller }) => ({ status: 200, body: { items: await tokens.list(requireUser(caller)) } }),
    // Validation has filled the contract's defaults already; the type does not know it.
    createPersonalAccessToken: async ({ caller, body }) => ({
      status: 201,
      body: await tokens.create(requireUser(caller), { name: body.name, expiresInDays: body.expiresInDays ?? 90, scope: body.scope ?? 'full' }),
      headers: { 'cache-control': 'no-store' },
    }),
    deletePersonalAccessToken: async ({ caller, params }) => {
      const user = requireUser(caller);
      await tokens.revoke(user, params.id);
      // The gateway relaying this forgets the user's cached tokens before the client's next request.
      return { status: 204, body: undefined, headers: { [accessChangedHeader]: user.userId } };
    },
    // Internal: only the gateway may ask (x-callers in the contract).
    resolvePersonalAccessToken: async ({ body }) => ({ status: 200, body: await tokens.resolve(body.tokenHash) }),
  };
}
