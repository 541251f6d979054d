import type { Api } from './client';

/**
 * The console's one API, set once by main.ts (tests set a fake-backed one).
 * Stores read it through `useApi()` rather than importing a module-level
 * client, so a test decides what the network is.
 */
let installed: Api | undefined;

export function installApi(api: Api): void {
  installed = api;
}

export function useApi(): Api {
  if (!installed) throw new Error('installApi() was not called');
  return installed;
}
