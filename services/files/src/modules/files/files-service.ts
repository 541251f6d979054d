import { Readable } from 'node:stream';
import type { Kysely, Transaction } from 'kysely';
import type { Schemas } from '@hexa/contract';
import { auditActor, httpError, recordAudit, type UserCaller } from '@hexa/kit';
import type { FilesDatabase } from '../../database.js';
import { writableWorkspace, type WorkspaceDirectory } from '../workspaces/workspace-directory.js';
import { contentDisposition, contentTypeOf, normalisePath, parseRange, type ByteRange } from './files-fns.js';
import type { FileStorage, StoredEntry } from './files-storage.js';
import { createUploadBudget } from './upload-budget.js';

export interface FileLimits {
  maxFileBytes: number;
  quotaBytes: number;
}

function toEntry(entry: StoredEntry): Schemas['FileEntry'] {
  return {
    name: entry.name,
    path: entry.path,
    type: entry.type,
    size: entry.size,
    modified: entry.modified.toISOString(),
    contentType: entry.type === 'folder' ? null : contentTypeOf(entry.name),
  };
}

/**
 * The workspace's files: the binding checked the role (files read / write);
 * this checks the paths, the archive, the limits, and records the audit
 * entries of every change.
 */
export function createFilesService(deps: { db: Kysely<FilesDatabase>; storage: FileStorage; directory: WorkspaceDirectory; limits: FileLimits }) {
  const { db, storage, directory, limits } = deps;
  const uploads = createUploadBudget({ quotaBytes: limits.quotaBytes, usage: (workspaceId) => storage.usage(workspaceId) });

  /**
   * Makes a change on disk together with its audit entry: the entry is
   * written first in a transaction, the change applied inside it, and the
   * transaction committed after. The database refusing the entry leaves the
   * disk untouched, a failed change leaves no entry (docs/decisions/0026).
   * `apply` gets the transaction for what must commit with the change (an
   * idempotent answer).
   */
  async function audited(
    caller: UserCaller,
    workspace: { id: string; slug: string },
    action: string,
    target: string,
    after: unknown,
    apply: (trx: Transaction<FilesDatabase>) => Promise<void>,
  ): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await recordAudit(trx, {
        workspaceId: workspace.id,
        workspaceSlug: workspace.slug,
        actor: auditActor(caller),
        action,
        // The audit trail's targets are short: a very long path is cut, its end kept.
        target: target.length > 200 ? `…${target.slice(-199)}` : target,
        ...(after === undefined ? {} : { after }),
      });
      await apply(trx);
    });
  }

  return {
    async list(slug: string, query: { prefix?: string; page?: number; perPage?: number }): Promise<Schemas['FileListing']> {
      const workspace = await directory.describe(slug);
      const prefix = query.prefix === undefined ? '' : normalisePath(query.prefix);
      const page = query.page ?? 1;
      const perPage = query.perPage ?? 100;
      // A workspace without files yet has an empty root (the folder is made on first use).
      const entries = await storage.list(workspace.id, prefix);
      entries.sort((a, b) => (a.type === b.type ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.type === 'folder' ? -1 : 1));
      const totalItems = entries.length;
      return {
        prefix,
        items: entries.slice((page - 1) * perPage, page * perPage).map(toEntry),
        page,
        perPage,
        totalItems,
        totalPages: Math.max(1, Math.ceil(totalItems / perPage)),
        usage: { usedBytes: await storage.usage(workspace.id), quotaBytes: limits.quotaBytes, maxFileBytes: limits.maxFileBytes },
      };
    },

    async download(slug: string, rawPath: string, rangeHeader: string | undefined): Promise<{ status: 200 | 206; stream: Readable; headers: Record<string, string> }> {
      const workspace = await directory.describe(slug);
      const path = normalisePath(rawPath);
      const entry = await storage.stat(workspace.id, path);
      if (!entry) throw httpError('file_not_found', `Nothing at ${path}.`);
      if (entry.type === 'folder') throw httpError('is_a_folder', `${path} is a folder; list it with ?prefix=.`);
      const range = parseRange(rangeHeader, entry.size);
      if (range === 'unsatisfiable') {
        throw httpError('range_not_satisfiable', `The file has ${entry.size} bytes.`, { headers: { 'content-range': `bytes */${entry.size}` } });
      }
      const { entry: opened, stream } = await storage.read(workspace.id, path, range as ByteRange | undefined);
      const headers: Record<string, string> = {
        'content-type': contentTypeOf(opened.name),
        'content-disposition': contentDisposition(opened.name),
        'accept-ranges': 'bytes',
        etag: `"${opened.size.toString(16)}-${opened.modified.getTime().toString(16)}"`,
        'last-modified': opened.modified.toUTCString(),
        'cache-control': 'private, no-cache',
        'x-content-type-options': 'nosniff',
      };
      if (range) {
        const end = Math.min(range.end, opened.size - 1);
        headers['content-range'] = `bytes ${range.start}-${end}/${opened.size}`;
        headers['content-length'] = String(end - range.start + 1);
        return { status: 206, stream, headers };
      }
      headers['content-length'] = String(opened.size);
      return { status: 200, stream, headers };
    },

    async upload(caller: UserCaller, slug: string, rawPath: string, body: Readable | undefined, announcedLength: number | undefined): Promise<{ status: 200 | 201; entry: Schemas['FileEntry'] }> {
      const workspace = await writableWorkspace(directory, slug);
      const path = normalisePath(rawPath);
      if (announcedLength !== undefined && announcedLength > limits.maxFileBytes) {
        throw httpError('file_too_large', `A file may not exceed ${limits.maxFileBytes} bytes; this one announces ${announcedLength}.`, { headers: { connection: 'close' } });
      }
      const previous = await storage.stat(workspace.id, path);
      const previousBytes = previous?.type === 'file' ? previous.size : 0;
      const share = await uploads.open(workspace.id, previousBytes);
      const quotaExceeded = () =>
        httpError('quota_exceeded', `The workspace has ${Math.max(0, share.available())} bytes left of its ${limits.quotaBytes}-byte quota.`, { headers: { connection: 'close' } });
      let written;
      try {
        if (announcedLength !== undefined && announcedLength > share.available()) throw quotaExceeded();
        // Bytes are taken from the workspace's budget as they arrive: uploads racing each other share it.
        async function* counted(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            if (!share.take(chunk.length)) throw quotaExceeded();
            yield chunk;
          }
        }
        written = await storage.write(
          workspace.id,
          path,
          Readable.from(counted(body ?? Readable.from([]))),
          { bytes: limits.maxFileBytes, error: () => httpError('file_too_large', `A file may not exceed ${limits.maxFileBytes} bytes.`, { headers: { connection: 'close' } }) },
          ({ size, replaced }, apply) => audited(caller, workspace, 'file.uploaded', path, { size, replaced }, apply),
        );
      } catch (error) {
        share.release();
        throw error;
      }
      share.commit(written.replaced ? previousBytes : 0);
      const { entry, replaced } = written;
      return { status: replaced ? 200 : 201, entry: toEntry(entry) };
    },

    /**
     * Makes a folder and its missing parents. `inTransaction` sees the folder
     * as made, in the transaction of its audit entry: the idempotent answer
     * commits with them.
     */
    async makeFolder(
      caller: UserCaller,
      slug: string,
      rawPath: string,
      inTransaction?: (trx: Transaction<FilesDatabase>, folder: Schemas['FileEntry']) => Promise<void>,
    ): Promise<Schemas['FileEntry']> {
      const workspace = await writableWorkspace(directory, slug);
      const path = normalisePath(rawPath);
      return toEntry(
        await storage.makeFolder(workspace.id, path, (_, apply) =>
          audited(caller, workspace, 'folder.created', path, undefined, async (trx) => {
            await apply();
            if (!inTransaction) return;
            // Read back as the answer shows it (its time); a run sharing the folder may have removed it already.
            const made = await storage.stat(workspace.id, path);
            if (!made) throw httpError('file_not_found', `${path} was deleted as it was made.`);
            await inTransaction(trx, toEntry(made));
          }),
        ),
      );
    },

    async remove(caller: UserCaller, slug: string, rawPath: string, recursive: boolean): Promise<void> {
      const workspace = await writableWorkspace(directory, slug);
      const path = normalisePath(rawPath);
      await storage.remove(workspace.id, path, { recursive }, (entry, apply) =>
        audited(caller, workspace, entry.type === 'folder' ? 'folder.deleted' : 'file.deleted', path, entry.type === 'folder' ? { recursive } : { size: entry.size }, apply),
      );
    },

    async move(caller: UserCaller, slug: string, body: { from: string; to: string; overwrite?: boolean }): Promise<Schemas['FileEntry']> {
      const workspace = await writableWorkspace(directory, slug);
      const from = normalisePath(body.from);
      const to = normalisePath(body.to);
      return toEntry(await storage.move(workspace.id, from, to, { overwrite: body.overwrite ?? false }, (_, apply) => audited(caller, workspace, 'file.moved', from, { to }, apply)));
    },
  };
}

export type FilesService = ReturnType<typeof createFilesService>;
