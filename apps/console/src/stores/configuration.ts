import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';

/** A configuration value: any JSON but null. */
export type ConfigurationValue = unknown;
export type Properties = Record<string, ConfigurationValue>;

/** Keys are identifiers (the contract's `ConfigurationKey` pattern); the API has the last word. */
export const configurationKeyPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** What another Admin changed since this page loaded the configuration. */
export interface ConfigurationConflict {
  added: string[];
  changed: string[];
  removed: string[];
}

/** Parses a value typed as JSON; says in words why it is not one the API takes. */
export function parseValue(text: string): { ok: true; value: ConfigurationValue } | { ok: false; message: string } {
  if (!text.trim()) return { ok: false, message: 'Enter a JSON value, e.g. "text", 42, true, ["a"] or {"a": 1}.' };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null) return { ok: false, message: 'null is not a value: delete the property instead.' };
    return { ok: true, value };
  } catch (caught) {
    return { ok: false, message: `Not valid JSON: ${(caught as Error).message}. Text needs double quotes, e.g. "hello".` };
  }
}

/** The keys whose values differ between two versions of the configuration. */
export function differences(before: Properties, after: Properties): ConfigurationConflict {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return {
    added: Object.keys(after).filter((key) => !(key in before)).sort(),
    changed: Object.keys(after).filter((key) => key in before && !same(before[key], after[key])).sort(),
    removed: Object.keys(before).filter((key) => !(key in after)).sort(),
  };
}

/**
 * A workspace's configuration properties with the ETag they were read at.
 * Every write sends that ETag in `If-Match`: when another Admin changed the
 * configuration meanwhile the API answers 412 and nothing is written; the
 * store then reads the current version and says which keys changed
 * (`conflict`), keeping what is shown until the person chooses to reload.
 */
export const useConfigurationStore = defineStore('configuration', () => {
  const slug = ref<string | null>(null);
  const properties = ref<Properties>({});
  const etag = ref<string | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const conflict = ref<ConfigurationConflict | null>(null);

  async function load(workspace: string): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem, response } = await useApi().client.GET('/workspaces/{slug}/configuration', { params: { path: { slug: workspace } } });
      if (!data) throw new ApiError(problem);
      slug.value = workspace;
      properties.value = data.properties;
      etag.value = response.headers.get('etag');
      conflict.value = null;
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
    } finally {
      loading.value = false;
    }
  }

  /** After a 412: what changed, from the current version; what is shown stays until `load()`. */
  async function explainConflict(workspace: string): Promise<void> {
    const { data } = await useApi().client.GET('/workspaces/{slug}/configuration', { params: { path: { slug: workspace } } });
    conflict.value = data ? differences(properties.value, data.properties) : { added: [], changed: [], removed: [] };
  }

  async function write(workspace: string, send: (ifMatch: Record<string, string>) => Promise<{ data?: { properties: Properties }; error?: unknown; response: Response }>): Promise<boolean> {
    error.value = null;
    const ifMatch: Record<string, string> = etag.value ? { 'If-Match': etag.value } : {};
    try {
      const { data, error: problem, response } = await send(ifMatch);
      if (response.status === 412) {
        await explainConflict(workspace);
        return false;
      }
      if (!data) throw new ApiError(problem);
      properties.value = data.properties;
      etag.value = response.headers.get('etag');
      conflict.value = null;
      return true;
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
      return false;
    }
  }

  /** Creates or changes one property, if nothing changed since it was read. */
  function set(workspace: string, key: string, value: ConfigurationValue): Promise<boolean> {
    return write(workspace, (ifMatch) =>
      useApi().client.PUT('/workspaces/{slug}/configuration/{key}', { params: { path: { slug: workspace, key }, header: ifMatch }, body: { value } }),
    );
  }

  /** Removes one property, if nothing changed since it was read. */
  function remove(workspace: string, key: string): Promise<boolean> {
    return write(workspace, (ifMatch) => useApi().client.DELETE('/workspaces/{slug}/configuration/{key}', { params: { path: { slug: workspace, key }, header: ifMatch } }));
  }

  return { slug, properties, etag, loading, error, conflict, load, set, remove };
});
