import { httpError, type ServiceClient } from '@hexa/kit';
import { hashPersonalAccessToken, type PersonalAccessTokenCache } from './personal-access-tokens.js';

/** What the gateway keeps of a resolved run token (`HEXA_TOKEN`): whom it speaks for, and the one workspace it may address. */
export interface RunTokenGrant {
  userId: string;
  workspaceSlug: string;
}

export const runTokenPrefix = 'hexa_run_';

/**
 * Resolves a run token through the runner (cached briefly in the same cache
 * as personal access tokens; the runner announces a run's end on the
 * access-changed channel, which drops it at once, so the cache's lifetime
 * only bounds a lost announcement); 401 once its run has ended or when it
 * never existed.
 */
export function createRunTokenResolver(deps: { runner: ServiceClient<'runner'>; cache: PersonalAccessTokenCache<RunTokenGrant> }) {
  return async function resolve(secret: string): Promise<RunTokenGrant> {
    // The same one-way hash as personal access tokens: the secret never leaves the gateway.
    const tokenHash = hashPersonalAccessToken(secret);
    const cached = deps.cache.get(tokenHash);
    if (cached) return cached;
    const generation = deps.cache.currentGeneration;
    let grant: RunTokenGrant;
    try {
      const answer = await deps.runner.call('resolveRunToken', { body: { tokenHash } });
      grant = { userId: answer.userId, workspaceSlug: answer.workspaceSlug };
    } catch (error) {
      if ((error as { code?: string }).code === 'not_found') throw httpError('invalid_token', 'This run token belongs to no run that is queued or running.');
      throw error;
    }
    deps.cache.set(tokenHash, grant, generation);
    return grant;
  };
}
