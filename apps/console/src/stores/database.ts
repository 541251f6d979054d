import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { Schemas } from '../api/client';
import { newIdempotencyKey } from '../idempotency';

export type WorkspaceDatabase = Schemas['WorkspaceDatabase'];
export type DatabaseTable = Schemas['DatabaseTable'];
export type DatabaseRows = Schemas['DatabaseRows'];
export type DatabaseCredentials = Schemas['DatabaseCredentials'];
export type PasswordRotation = Schemas['PasswordRotation'];

/** Tables listed per page. */
export const tablesPageSize = 50;
/** Rows shown per page of a table. */
export const rowsPageSize = 20;
/** A rotation takes a second or two (a job changes the password and checks it signs in): poll this often. */
export const rotationPollIntervalMs = 1000;

const messageOf = (caught: unknown) => (caught instanceof ApiError ? caught.message : new ApiError(caught).message);

/**
 * The workspace's database: where it stands, its tables (everyone), one
 * table's rows page by page, the credentials (Editors and Admins; each read
 * is audited, so they are fetched only when the person asks) and the
 * password rotation (Admins), followed until it has succeeded or failed.
 */
export const useDatabaseStore = defineStore('database', () => {
  const slug = ref<string | null>(null);
  const database = ref<WorkspaceDatabase | null>(null);
  const tables = ref<DatabaseTable[]>([]);
  const tablesPage = ref(1);
  const tablesTotalPages = ref(1);
  const error = ref<string | null>(null);
  const loading = ref(false);

  const selected = ref<DatabaseTable | null>(null);
  const rows = ref<DatabaseRows | null>(null);
  const rowsError = ref<string | null>(null);

  const credentials = ref<DatabaseCredentials | null>(null);
  const credentialsError = ref<string | null>(null);

  const rotation = ref<PasswordRotation | null>(null);
  const rotationError = ref<string | null>(null);
  let stopPolling: (() => void) | undefined;

  async function load(workspace: string): Promise<void> {
    if (slug.value !== workspace) {
      stopPolling?.();
      selected.value = null;
      rows.value = null;
      credentials.value = null;
      rotation.value = null;
      rotationError.value = null;
      tables.value = [];
      database.value = null;
    }
    slug.value = workspace;
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/database', { params: { path: { slug: workspace } } });
      if (!data) throw new ApiError(problem);
      database.value = data;
      if (data.status === 'ready') await loadTables(workspace, 1);
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  async function loadTables(workspace: string, page: number): Promise<void> {
    const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/database/tables', { params: { path: { slug: workspace }, query: { page, perPage: tablesPageSize } } });
    if (!data) throw new ApiError(problem);
    tables.value = data.items;
    tablesPage.value = data.page;
    tablesTotalPages.value = Math.max(1, data.totalPages);
  }

  /** Opens a table: its columns (from the list) and its first page of rows. */
  async function openTable(workspace: string, table: DatabaseTable, page = 1): Promise<void> {
    selected.value = table;
    rowsError.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/database/tables/{table}/rows', {
        params: { path: { slug: workspace, table: table.name }, query: { page, perPage: rowsPageSize } },
      });
      if (!data) throw new ApiError(problem);
      if (selected.value?.name === table.name) rows.value = data;
    } catch (caught) {
      rowsError.value = messageOf(caught);
    }
  }

  function closeTable(): void {
    selected.value = null;
    rows.value = null;
  }

  /** Fetches the credentials (audited on the server). */
  async function revealCredentials(workspace: string): Promise<void> {
    credentialsError.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/database/credentials', { params: { path: { slug: workspace } } });
      if (!data) throw new ApiError(problem);
      credentials.value = data;
    } catch (caught) {
      credentialsError.value = messageOf(caught);
    }
  }

  function hideCredentials(): void {
    credentials.value = null;
  }

  /**
   * Asks for a new password and follows the rotation until it has succeeded
   * (the new password signs in, the old one never works again) or failed.
   * Shown credentials are read again once it has succeeded.
   */
  async function rotatePassword(workspace: string, idempotencyKey = newIdempotencyKey(), intervalMs = rotationPollIntervalMs): Promise<void> {
    rotationError.value = null;
    stopPolling?.();
    try {
      const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/database/password-rotations', {
        params: { path: { slug: workspace }, header: { 'Idempotency-Key': idempotencyKey } },
      });
      if (!data) throw new ApiError(problem);
      rotation.value = data;
    } catch (caught) {
      rotationError.value = messageOf(caught);
      return;
    }
    await new Promise<void>((resolve) => {
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      stopPolling = () => {
        stopped = true;
        clearTimeout(timer);
        resolve();
      };
      const tick = async () => {
        if (stopped || !rotation.value) return;
        const { data, error: problem } = await useApi()
          .client.GET('/workspaces/{slug}/database/password-rotations/{id}', { params: { path: { slug: workspace, id: rotation.value.id } } })
          .catch((caught: unknown) => ({ data: undefined, error: caught }));
        if (stopped) return;
        if (data) rotation.value = data;
        else rotationError.value = messageOf(problem);
        if (data && (data.status === 'succeeded' || data.status === 'failed')) {
          if (data.status === 'succeeded' && credentials.value) await revealCredentials(workspace);
          stopPolling?.();
          return;
        }
        timer = setTimeout(() => void tick(), intervalMs);
      };
      timer = setTimeout(() => void tick(), rotation.value?.status === 'succeeded' ? 0 : intervalMs);
    });
  }

  const retryError = ref<string | null>(null);
  /**
   * Provisions a database whose provisioning failed once more (Admins): every
   * step is idempotent on the service's side, so what the failed attempt made
   * is kept and completed. The answer shows `provisioning`; the page follows
   * the workspace's status from there.
   */
  async function retry(workspace: string, idempotencyKey = newIdempotencyKey()): Promise<void> {
    retryError.value = null;
    try {
      const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/database/retry', {
        params: { path: { slug: workspace }, header: { 'Idempotency-Key': idempotencyKey } },
      });
      if (!data) throw new ApiError(problem);
      database.value = data;
    } catch (caught) {
      retryError.value = messageOf(caught);
    }
  }

  /** Stops following a rotation (the page closed); the rotation itself goes on. */
  function stop(): void {
    stopPolling?.();
  }

  return {
    slug,
    database,
    tables,
    tablesPage,
    tablesTotalPages,
    error,
    loading,
    selected,
    rows,
    rowsError,
    credentials,
    credentialsError,
    rotation,
    rotationError,
    load,
    loadTables,
    openTable,
    closeTable,
    revealCredentials,
    hideCredentials,
    rotatePassword,
    retryError,
    retry,
    stop,
  };
});
