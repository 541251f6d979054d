import { defineStore } from 'pinia';
import { useApi } from '../api/install';
import type { Schemas } from '../api/client';
import { loadOnce } from './load-once';

export type Country = Schemas['Country'];

/** ISO 3166-1 countries with their names, from `GET /countries`, loaded once per session. */
export const useCountriesStore = defineStore('countries', () => {
  const { items, error, load } = loadOnce<Country>(() => useApi().client.GET('/countries'));

  function nameOf(code: string): string {
    return items.value.find((country) => country.code === code)?.name ?? code;
  }

  return { items, error, load, nameOf };
});
