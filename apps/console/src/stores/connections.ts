import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RequestBody } from '@hexa/contract';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import { messageOf } from '../api/errors';
import type { Schemas } from '../api/client';
import { newIdempotencyKey } from '../idempotency';

export type Connection = Schemas['Connection'];
export type ConnectionType = Schemas['ConnectionType'];
export type ConnectionFieldInput = Schemas['ConnectionFieldInput'];
export type ConnectionInput = RequestBody<'createWorkspaceConnection'>;
export type ConnectionUpdate = RequestBody<'updateWorkspaceConnection'>;
export type ConnectionTestResult = Schemas['ConnectionTestResult'];

/**
 * The workspace's connections: Editors and Admins list and test them, Admins
 * create, change and delete them (the API's `permissions` decide what the page
 * offers; the API refuses anyway). Secret values never reach the console: the
 * API answers `value: null` for them.
 */
export const useConnectionsStore = defineStore('connections', () => {
  const slug = ref<string | null>(null);
  const items = ref<Connection[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** The last test of each connection, by its slug, until the list changes workspace. */
  const tests = ref<Record<string, ConnectionTestResult | { error: string }>>({});
  /** The connection being tested, while it is. */
  const testing = ref<string | null>(null);

  const byName = (a: Connection, b: Connection) => a.name.localeCompare(b.name);

  async function load(workspace: string): Promise<void> {
    if (slug.value !== workspace) {
      items.value = [];
      tests.value = {};
    }
    slug.value = workspace;
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/connections', { params: { path: { slug: workspace } } });
      if (!data) throw new ApiError(problem);
      if (slug.value === workspace) items.value = data.items;
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  /** Creates a connection; one `idempotencyKey` per opened form, so a retry after a lost answer creates one. */
  async function create(workspace: string, input: ConnectionInput, idempotencyKey = newIdempotencyKey()): Promise<Connection> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/connections', {
      params: { path: { slug: workspace }, header: { 'Idempotency-Key': idempotencyKey } },
      body: input,
    });
    if (!data) throw new ApiError(problem);
    items.value = [...items.value.filter((item) => item.slug !== data.slug), data].sort(byName);
    return data;
  }

  /** Changes name, description or fields (the whole set: a secret sent without `value` keeps its stored value). */
  async function update(workspace: string, connection: string, changes: ConnectionUpdate): Promise<Connection> {
    const { data, error: problem } = await useApi().client.PATCH('/workspaces/{slug}/connections/{connection}', {
      params: { path: { slug: workspace, connection } },
      body: changes,
    });
    if (!data) throw new ApiError(problem);
    items.value = items.value.map((item) => (item.slug === connection ? data : item)).sort(byName);
    // An earlier test said nothing about the changed fields.
    const { [connection]: _stale, ...rest } = tests.value;
    tests.value = rest;
    return data;
  }

  async function remove(workspace: string, connection: string): Promise<void> {
    const { response, error: problem } = await useApi().client.DELETE('/workspaces/{slug}/connections/{connection}', { params: { path: { slug: workspace, connection } } });
    if (!response.ok) throw new ApiError(problem);
    items.value = items.value.filter((item) => item.slug !== connection);
  }

  /**
   * Signs in with the stored fields, on the server. A refused login is a
   * result (`ok: false` with the server's words), not an error of the request;
   * a request that fails (`409 connection_test_unsupported`…) is kept as words.
   */
  async function test(workspace: string, connection: string): Promise<void> {
    testing.value = connection;
    try {
      const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/connections/{connection}/test', { params: { path: { slug: workspace, connection } } });
      if (!data) throw new ApiError(problem);
      tests.value = { ...tests.value, [connection]: data };
    } catch (caught) {
      tests.value = { ...tests.value, [connection]: { error: messageOf(caught) } };
    } finally {
      testing.value = null;
    }
  }

  return { slug, items, loading, error, tests, testing, load, create, update, remove, test };
});
