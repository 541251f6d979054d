import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RequestBody } from '@hexa/contract';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import { messageOf } from '../api/errors';
import type { Schemas } from '../api/client';
import { newIdempotencyKey } from '../idempotency';

export type Pipeline = Schemas['Pipeline'];
export type PipelineInput = RequestBody<'createPipeline'>;
export type PipelineUpdate = RequestBody<'updatePipeline'>;
export type Run = Schemas['Run'];
export type RunParameters = Schemas['RunParameters'];

/**
 * Reads launch parameters typed as a JSON object (`{"weeks": 4}`); empty means none.
 * Returns the words of the mistake instead of throwing, for the form to show.
 *
 * @example
 * parseParameters('{"weeks": 4}') // { parameters: { weeks: 4 } }
 * parseParameters('[1]')          // { error: 'Parameters are a JSON object, such as {"weeks": 4}.' }
 */
export function parseParameters(text: string): { parameters?: RunParameters; error?: string } {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'Parameters are not valid JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'Parameters are a JSON object, such as {"weeks": 4}.' };
  return { parameters: value as RunParameters };
}

/**
 * The workspace's pipelines (everyone with a role lists and launches them;
 * Editors and Admins create and change them, Admins delete them — the API's
 * `permissions` decide what the page offers). Every change shows the API's answer.
 */
export const usePipelinesStore = defineStore('pipelines', () => {
  const slug = ref<string | null>(null);
  const items = ref<Pipeline[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function load(workspace: string): Promise<void> {
    if (slug.value !== workspace) items.value = [];
    slug.value = workspace;
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/pipelines', { params: { path: { slug: workspace } } });
      if (!data) throw new ApiError(problem);
      if (slug.value === workspace) items.value = data.items;
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  /** Creates a pipeline; one `idempotencyKey` per submission, so a retry after a lost answer creates one. */
  async function create(workspace: string, input: PipelineInput, idempotencyKey = newIdempotencyKey()): Promise<Pipeline> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/pipelines', {
      params: { path: { slug: workspace }, header: { 'Idempotency-Key': idempotencyKey } },
      body: input,
    });
    if (!data) throw new ApiError(problem);
    items.value = [...items.value.filter((item) => item.code !== data.code), data].sort((a, b) => a.code.localeCompare(b.code));
    return data;
  }

  async function update(workspace: string, code: string, input: PipelineUpdate): Promise<Pipeline> {
    const { data, error: problem } = await useApi().client.PATCH('/workspaces/{slug}/pipelines/{code}', { params: { path: { slug: workspace, code } }, body: input });
    if (!data) throw new ApiError(problem);
    items.value = items.value.map((item) => (item.code === code ? data : item));
    return data;
  }

  /** Deletes a pipeline (its runs stay listed); refused while one of its runs is queued or running. */
  async function remove(workspace: string, code: string): Promise<void> {
    const { response, error: problem } = await useApi().client.DELETE('/workspaces/{slug}/pipelines/{code}', { params: { path: { slug: workspace, code } } });
    if (!response.ok) throw new ApiError(problem);
    items.value = items.value.filter((item) => item.code !== code);
  }

  /** Launches a run; it is `queued` until the runner starts its container. */
  async function launch(workspace: string, code: string, parameters?: RunParameters, idempotencyKey = newIdempotencyKey()): Promise<Run> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/pipelines/{code}/runs', {
      params: { path: { slug: workspace, code }, header: { 'Idempotency-Key': idempotencyKey } },
      body: parameters ? { parameters } : {},
    });
    if (!data) throw new ApiError(problem);
    return data;
  }

  return { slug, items, loading, error, load, create, update, remove, launch };
});

/**
 * Reads a command typed as a JSON array of strings (`["sh", "-c", "echo hi"]`),
 * the form the API runs as given (no shell unless one is named).
 *
 * @example
 * parseCommand('["python", "main.py"]') // { command: ['python', 'main.py'] }
 */
export function parseCommand(text: string): { command?: string[]; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'The command is a JSON array of strings, such as ["sh", "-c", "echo hello"].' };
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((part) => typeof part === 'string' && part.length > 0)) {
    return { error: 'The command is a JSON array of non-empty strings, such as ["sh", "-c", "echo hello"].' };
  }
  return { command: value as string[] };
}

/**
 * A pipeline code from its name, as the person types it (they may change it): lower case, digits and dashes.
 *
 * @example
 * codeFromName('Weekly Cases — Sénégal') // 'weekly-cases-senegal'
 */
export function codeFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}
