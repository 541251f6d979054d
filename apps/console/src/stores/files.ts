import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import { messageOf } from '../api/errors';
import type { Schemas } from '../api/client';
import { newIdempotencyKey } from '../idempotency';

export type FileEntry = Schemas['FileEntry'];
export type FileListing = Schemas['FileListing'];

/** Entries listed per page of a folder. */
export const filesPageSize = 100;

/**
 * Fills `{slug}` and the wildcard `{path}` of a files operation: the path's
 * `/` stay separators and each segment is percent-encoded (the contract's
 * `x-wildcard`). openapi-fetch's default would encode the `/` too.
 */
export function filePathSerializer(pathname: string, params: Record<string, unknown>): string {
  return pathname
    .replace('{slug}', encodeURIComponent(String(params.slug)))
    .replace('{path}', String(params.path).split('/').map(encodeURIComponent).join('/'));
}

/** The path of `name` inside the folder `prefix` ('' is the workspace's root). */
export const joinPath = (prefix: string, name: string) => (prefix ? `${prefix}/${name}` : name);

/** The folders from the root down to `prefix`, for a breadcrumb: [{ name: 'reports', path: 'reports' }, …]. */
export function foldersOf(prefix: string): { name: string; path: string }[] {
  const names = prefix ? prefix.split('/') : [];
  return names.map((name, index) => ({ name, path: names.slice(0, index + 1).join('/') }));
}

/**
 * The workspace's files (the folder every run sees at /home/hexa/workspace):
 * one folder at a time, paged; everyone reads and downloads; Editors and
 * Admins upload, create folders, move, rename and delete (the API's `permissions` decide
 * what the page offers, the API refuses anyway).
 */
export const useFilesStore = defineStore('files', () => {
  const slug = ref<string | null>(null);
  const prefix = ref('');
  const listing = ref<FileListing | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** The file being uploaded, while it is. */
  const uploading = ref<string | null>(null);
  let loadSeq = 0;

  /** Lists a folder; a late answer for a folder the person already left is dropped. */
  async function load(workspace: string, folder = prefix.value, page = 1): Promise<void> {
    const seq = ++loadSeq;
    if (slug.value !== workspace || prefix.value !== folder) listing.value = null;
    slug.value = workspace;
    prefix.value = folder;
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/files', {
        params: { path: { slug: workspace }, query: { ...(folder ? { prefix: folder } : {}), page, perPage: filesPageSize } },
      });
      if (seq !== loadSeq) return;
      if (!data) throw new ApiError(problem);
      listing.value = data;
    } catch (caught) {
      if (seq === loadSeq) error.value = messageOf(caught);
    } finally {
      if (seq === loadSeq) loading.value = false;
    }
  }

  /** Uploads a file into the shown folder (an existing one of that name is replaced whole), then lists the folder again. */
  async function upload(workspace: string, file: Blob, name: string): Promise<FileEntry> {
    uploading.value = name;
    try {
      const { data, error: problem } = await useApi().client.PUT('/workspaces/{slug}/files/{path}', {
        params: { path: { slug: workspace, path: joinPath(prefix.value, name) } },
        pathSerializer: filePathSerializer,
        // openapi-typescript types a binary body as a string; the browser sends a Blob's bytes as they are.
        body: file as unknown as string,
        bodySerializer: (body: unknown) => body as Blob,
        headers: { 'content-type': 'application/octet-stream' },
      });
      if (!data) throw new ApiError(problem);
      await load(workspace, prefix.value, listing.value?.page ?? 1);
      return data;
    } finally {
      uploading.value = null;
    }
  }

  async function createFolder(workspace: string, name: string, idempotencyKey = newIdempotencyKey()): Promise<FileEntry> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/folders', {
      params: { path: { slug: workspace }, header: { 'Idempotency-Key': idempotencyKey } },
      body: { path: joinPath(prefix.value, name) },
    });
    if (!data) throw new ApiError(problem);
    await load(workspace, prefix.value, listing.value?.page ?? 1);
    return data;
  }

  /** Deletes a file, or a folder with everything in it (the page asks first). */
  async function remove(workspace: string, entry: FileEntry): Promise<void> {
    const { response, error: problem } = await useApi().client.DELETE('/workspaces/{slug}/files/{path}', {
      params: { path: { slug: workspace, path: entry.path }, query: entry.type === 'folder' ? { recursive: true } : {} },
      pathSerializer: filePathSerializer,
    });
    if (!response.ok) throw new ApiError(problem);
    await load(workspace, prefix.value, listing.value?.page ?? 1);
  }

  /**
   * Moves or renames a file or folder to `to` (a path from the workspace's
   * root), then lists the shown folder again. Something already at `to` is
   * refused (`409 file_exists`): the console never asks to overwrite.
   */
  async function move(workspace: string, from: string, to: string): Promise<FileEntry> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/files/move', {
      params: { path: { slug: workspace } },
      // Never overwrite: the page shows `file_exists` in words and the person picks another name.
      body: { from, to, overwrite: false },
    });
    if (!data) throw new ApiError(problem);
    await load(workspace, prefix.value, listing.value?.page ?? 1);
    return data;
  }

  /**
   * A file's bytes, with the token the API needs (a plain link could not send
   * it). Held in memory until the browser saves it: fine for the files a
   * person downloads from a page; scripts use the API's `Range` instead.
   */
  async function download(workspace: string, path: string): Promise<Blob> {
    const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/files/{path}', {
      params: { path: { slug: workspace, path } },
      pathSerializer: filePathSerializer,
      parseAs: 'blob',
    });
    if (!data) throw new ApiError(problem);
    return data;
  }

  return { slug, prefix, listing, loading, error, uploading, load, upload, createFolder, remove, move, download };
});
