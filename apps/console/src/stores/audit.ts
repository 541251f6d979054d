import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { Schemas } from '../api/client';

export type AuditEvent = Schemas['AuditEvent'];

/** Entries per page of the audit trail. */
export const auditPageSize = 50;

/** The workspace's audit trail, newest first, a page at a time (Admins). */
export const useAuditStore = defineStore('audit', () => {
  const items = ref<AuditEvent[]>([]);
  const page = ref(1);
  const totalPages = ref(1);
  const totalItems = ref(0);
  const capped = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function load(slug: string, wanted = 1): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/audit', { params: { path: { slug }, query: { page: wanted, perPage: auditPageSize } } });
      if (!data) throw new ApiError(problem);
      items.value = data.items;
      page.value = data.page;
      totalPages.value = Math.max(1, data.totalPages);
      totalItems.value = data.totalItems;
      capped.value = data.totalItemsCapped;
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
    } finally {
      loading.value = false;
    }
  }

  return { items, page, totalPages, totalItems, capped, loading, error, load };
});

/** An action code (`member.role-changed`) in words (`Member role changed`). */
export function actionWords(action: string): string {
  const words = action.replace(/[.-]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A before/after value, short enough for a table cell. */
export function shortJson(value: unknown, max = 120): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
