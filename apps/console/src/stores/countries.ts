import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { Schemas } from '../api/client';

export type Country = Schemas['Country'];

/** ISO 3166-1 countries with their names, from `GET /countries`, loaded once per session. */
export const useCountriesStore = defineStore('countries', () => {
  const items = ref<Country[]>([]);
  const error = ref<string | null>(null);
  let loading: Promise<void> | null = null;

  function load(): Promise<void> {
    loading ??= (async () => {
      const { data, error: problem } = await useApi().client.GET('/countries');
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

  function nameOf(code: string): string {
    return items.value.find((country) => country.code === code)?.name ?? code;
  }

  return { items, error, load, nameOf };
});
