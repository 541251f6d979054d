import { defineStore } from 'pinia';
import { useApi } from '../api/install';
import type { Schemas } from '../api/client';
import { loadOnce } from './load-once';

export type ConnectionTypeInfo = Schemas['ConnectionTypeInfo'];

/**
 * The connection types as the API describes them (`GET /connection-types`):
 * each type's name, the fields a form starts with (which are secret), and
 * whether it can be tested. Loaded once per session; the form is built from
 * them, so the console keeps no second copy of the service's rules.
 */
export const useConnectionTypesStore = defineStore('connection-types', () => {
  const { items, error, load } = loadOnce<ConnectionTypeInfo>(() => useApi().client.GET('/connection-types'));

  /** A type's description; one the API did not list (yet) is shown by its code, with no fields to start from. */
  function infoOf(type: Schemas['ConnectionType']): ConnectionTypeInfo {
    return items.value.find((info) => info.type === type) ?? { type, label: type, fields: [], testable: false };
  }

  return { items, error, load, infoOf };
});
