import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RequestBody } from '@hexa/contract';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { Schemas } from '../api/client';

export type PersonalAccessToken = Schemas['PersonalAccessToken'];
export type CreatedPersonalAccessToken = Schemas['CreatedPersonalAccessToken'];
export type CreatePersonalAccessTokenInput = RequestBody<'createPersonalAccessToken'>;

/**
 * The caller's personal access tokens for REST clients. A new token's secret
 * is in `created` until the person dismisses it: the API shows it once and
 * keeps only a hash, so the console never stores it anywhere else.
 */
export const usePersonalAccessTokensStore = defineStore('personal-access-tokens', () => {
  const items = ref<PersonalAccessToken[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const created = ref<CreatedPersonalAccessToken | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/me/tokens');
      if (!data) throw new ApiError(problem);
      items.value = data.items;
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
    } finally {
      loading.value = false;
    }
  }

  /** Creates a token; true on success, with its secret in `created`. */
  async function create(input: CreatePersonalAccessTokenInput): Promise<boolean> {
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.POST('/me/tokens', { body: input });
      if (!data) throw new ApiError(problem);
      // A new token was never used (openapi-fetch's typing drops a property whose type is only `null`).
      created.value = { ...data, lastUsedAt: null };
      const { token: _secret, ...listed } = data;
      items.value = [{ ...listed, lastUsedAt: null }, ...items.value];
      return true;
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
      return false;
    }
  }

  /** Revokes a token at once; it disappears from the list. */
  async function revoke(id: string): Promise<boolean> {
    error.value = null;
    try {
      const { response, error: problem } = await useApi().client.DELETE('/me/tokens/{id}', { params: { path: { id } } });
      if (!response.ok) throw new ApiError(problem);
      items.value = items.value.filter((token) => token.id !== id);
      if (created.value?.id === id) created.value = null;
      return true;
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
      return false;
    }
  }

  /** The person has copied the secret (or chose not to): it is gone for good. */
  function dismissSecret(): void {
    created.value = null;
  }

  return { items, loading, error, created, load, create, revoke, dismissSecret };
});
