import { ref, type Ref } from 'vue';
import { ApiError } from '../api/problem';

/**
 * A list the API answers the same for the whole session (countries,
 * connection types): read once, shared by every caller; after a failure the
 * API's problem is kept in `error` and the next `load` asks again.
 *
 * @example
 * const { items, error, load } = loadOnce(async () => useApi().client.GET('/countries'));
 */
export function loadOnce<T>(request: () => Promise<{ data?: T[]; error?: unknown }>): { items: Ref<T[]>; error: Ref<string | null>; load: () => Promise<void> } {
  const items = ref<T[]>([]) as Ref<T[]>;
  const error = ref<string | null>(null);
  let loading: Promise<void> | null = null;

  function load(): Promise<void> {
    loading ??= (async () => {
      const { data, error: problem } = await request();
      if (!data) {
        error.value = new ApiError(problem).message;
        loading = null; // try again next time
        return;
      }
      items.value = data;
      error.value = null;
    })();
    return loading;
  }

  return { items, error, load };
}
