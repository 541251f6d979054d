import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { RequestBody } from '@hexa/contract';
import type { Schemas } from '../api/client';
import { useAuthStore } from './auth';

export type Workspace = Schemas['Workspace'];
export type WorkspaceSummary = Schemas['WorkspaceSummary'];
export type CreateWorkspaceInput = RequestBody<'createWorkspace'>;
export type UpdateWorkspaceInput = RequestBody<'updateWorkspace'>;

/** The selector shows this many matches; a longer list is narrowed by typing. */
export const selectorPageSize = 50;
/** Provisioning takes seconds; checking every two keeps the status live without loading the API. */
export const statusPollIntervalMs = 2000;

/** Where the last workspace a person opened is remembered, per user (two people may share a browser). */
export const lastWorkspaceKey = (userId: string) => `hexa:last-workspace:${userId}`;

/**
 * The workspaces a person can open (for the selector), the one they are in
 * (with their role and permissions, which decide what the console offers),
 * and the last one they used (remembered in this browser).
 */
export const useWorkspacesStore = defineStore('workspaces', () => {
  const items = ref<WorkspaceSummary[]>([]);
  const totalItems = ref(0);
  const query = ref('');
  const loading = ref(false);
  const error = ref<string | null>(null);

  const current = ref<Workspace | null>(null);
  const currentLoading = ref(false);
  const currentError = ref<string | null>(null);

  /** Whether "Create workspace" is offered: organization Owners and Admins, and Admins of a workspace. The API has the last word (403). */
  const adminSomewhere = ref(false);
  const canCreate = computed(() => useAuthStore().organizationAdmin || adminSomewhere.value);

  let searchSeq = 0;

  /** Lists the workspaces whose name matches; a late answer to an older query is dropped. */
  async function search(text = query.value): Promise<void> {
    query.value = text;
    const seq = ++searchSeq;
    loading.value = true;
    error.value = null;
    try {
      const trimmed = text.trim();
      const { data, error: problem } = await useApi().client.GET('/workspaces', {
        params: { query: { perPage: selectorPageSize, ...(trimmed ? { query: trimmed } : {}) } },
      });
      if (seq !== searchSeq) return;
      if (!data) throw new ApiError(problem);
      items.value = data.items;
      totalItems.value = data.totalItems;
      if (!trimmed && data.items.some((item) => item.role === 'ADMIN')) adminSomewhere.value = true;
    } catch (caught) {
      if (seq === searchSeq) error.value = new ApiError(caught instanceof ApiError ? caught.problem : caught).message;
    } finally {
      if (seq === searchSeq) loading.value = false;
    }
  }

  /** Opens a workspace: its role and permissions decide what the pages offer. Remembered as the last used. */
  async function open(slug: string): Promise<Workspace | null> {
    if (current.value?.slug !== slug) current.value = null;
    currentLoading.value = true;
    currentError.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}', { params: { path: { slug } } });
      if (!data) throw new ApiError(problem);
      current.value = data;
      remember(slug);
      return data;
    } catch (caught) {
      currentError.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
      if (caught instanceof ApiError && caught.code === 'workspace_not_found') forget(slug);
      return null;
    } finally {
      currentLoading.value = false;
    }
  }

  /** Reloads the current workspace without clearing what is shown (status polling). */
  async function reload(slug: string): Promise<Workspace | null> {
    const { data } = await useApi().client.GET('/workspaces/{slug}', { params: { path: { slug } } });
    if (data && current.value?.slug === slug) current.value = data;
    if (data) patchSummary(data);
    return data ?? null;
  }

  /**
   * Creates a workspace. `idempotencyKey` stays the same for every retry of one
   * submission, so a retried request after a lost answer does not create a second one.
   */
  async function create(input: CreateWorkspaceInput, idempotencyKey: string): Promise<Workspace> {
    const { data, error: problem } = await useApi().client.POST('/workspaces', {
      params: { header: { 'Idempotency-Key': idempotencyKey } },
      body: input,
    });
    if (!data) throw new ApiError(problem);
    adminSomewhere.value = true;
    const summary: WorkspaceSummary = { slug: data.slug, name: data.name, status: data.status, role: data.role, countries: data.countries, createdAt: data.createdAt };
    items.value = [summary, ...items.value.filter((item) => item.slug !== data.slug)];
    return data;
  }

  /**
   * Follows a workspace until its database is no longer provisioning; calls
   * `onChange` with each answer. Returns a function that stops following.
   */
  function followStatus(slug: string, onChange: (workspace: Workspace) => void, intervalMs = statusPollIntervalMs): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (stopped) return;
      const workspace = await reload(slug).catch(() => null);
      if (stopped) return;
      if (workspace) onChange(workspace);
      if (!workspace || workspace.status === 'provisioning') timer = setTimeout(tick, intervalMs);
    };
    timer = setTimeout(tick, intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** Replaces the home page (Editors and Admins); the answer carries the page as the service rendered it. */
  async function updateDescription(slug: string, markdown: string): Promise<Workspace> {
    const { data, error: problem } = await useApi().client.PUT('/workspaces/{slug}/description', { params: { path: { slug } }, body: { markdown } });
    if (!data) throw new ApiError(problem);
    adopt(data);
    return data;
  }

  /** Changes general settings (name, countries, Docker image); send only what changes. */
  async function update(slug: string, input: UpdateWorkspaceInput): Promise<Workspace> {
    const { data, error: problem } = await useApi().client.PATCH('/workspaces/{slug}', { params: { path: { slug } }, body: input });
    if (!data) throw new ApiError(problem);
    adopt(data);
    return data;
  }

  /** Archives the workspace: it leaves every list at once, and is forgotten as the last used. */
  async function archive(slug: string): Promise<void> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/archive', { params: { path: { slug } }, body: {} });
    if (!data) throw new ApiError(problem);
    items.value = items.value.filter((item) => item.slug !== slug);
    if (current.value?.slug === slug) current.value = null;
    forget(slug);
  }

  /** The archived workspaces (organization Owners and Admins only; the API answers 403 to anyone else). */
  const archived = ref<WorkspaceSummary[]>([]);
  async function loadArchived(): Promise<void> {
    const { data, error: problem } = await useApi().client.GET('/workspaces', { params: { query: { archived: true, perPage: 100 } } });
    if (!data) throw new ApiError(problem);
    archived.value = data.items;
  }

  /** Brings an archived workspace back (organization Owners and Admins). */
  async function restore(slug: string): Promise<Workspace> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/restore', { params: { path: { slug } }, body: {} });
    if (!data) throw new ApiError(problem);
    archived.value = archived.value.filter((item) => item.slug !== slug);
    await search('');
    return data;
  }

  function adopt(workspace: Workspace): void {
    if (current.value?.slug === workspace.slug) current.value = workspace;
    patchSummary(workspace);
  }

  function patchSummary(workspace: Workspace): void {
    items.value = items.value.map((item) => (item.slug === workspace.slug ? { ...item, status: workspace.status, name: workspace.name, countries: workspace.countries } : item));
  }

  function storage(): Storage | undefined {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  }

  function remember(slug: string): void {
    const user = useAuthStore().user;
    if (user) storage()?.setItem(lastWorkspaceKey(user.id), slug);
  }

  function forget(slug: string): void {
    const user = useAuthStore().user;
    if (user && lastUsedSlug() === slug) storage()?.removeItem(lastWorkspaceKey(user.id));
  }

  /** The workspace this person opened last in this browser, if any. */
  function lastUsedSlug(): string | null {
    const user = useAuthStore().user;
    return user ? (storage()?.getItem(lastWorkspaceKey(user.id)) ?? null) : null;
  }

  return {
    items,
    totalItems,
    query,
    loading,
    error,
    current,
    currentLoading,
    currentError,
    canCreate,
    adminSomewhere,
    archived,
    search,
    open,
    reload,
    create,
    followStatus,
    lastUsedSlug,
    updateDescription,
    update,
    archive,
    loadArchived,
    restore,
  };
});
