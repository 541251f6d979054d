import { randomUUID } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { lchown, lstat, mkdir, open, readdir, realpath, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { httpError } from '@hexa/kit';
import { uploadTempPrefix, type ByteRange } from './files-fns.js';

/** What storage knows of one entry. */
export interface StoredEntry {
  name: string;
  /** Relative to the workspace's root, `/`-separated. */
  path: string;
  type: 'folder' | 'file';
  size: number;
  modified: Date;
}

/** Why a write stopped before its end. */
export type WriteLimit = { bytes: number; error: () => Error };

/**
 * How a change is made visible: storage prepares it, then hands `apply` (the
 * one quick step that makes it visible: a rename, an unlink, a mkdir) with
 * what it is about to do to this, which runs `apply` inside whatever must hold
 * with the change (the service's audit transaction). When `commit` throws,
 * before or from `apply`, the change is not made.
 */
export type Commit<Facts> = (facts: Facts, apply: () => Promise<void>) => Promise<void>;

/**
 * Where a workspace's files live. Every path given here is already
 * normalised (`pathSegments`); the storage still confines every operation to
 * the workspace's root (symbolic links included). The local implementation
 * keeps them in a folder per workspace, which the runner mounts into runs; an
 * S3-compatible store can implement the same interface (docs/decisions/0026).
 */
export interface FileStorage {
  /** The entries directly inside a folder ('' is the root); `file_not_found` / `not_a_folder`. */
  list(workspaceId: string, folder: string): Promise<StoredEntry[]>;
  /** One entry, or undefined when nothing is there. */
  stat(workspaceId: string, path: string): Promise<StoredEntry | undefined>;
  /** A file's bytes (a range of them), streamed; `file_not_found` / `is_a_folder`. */
  read(workspaceId: string, path: string, range?: ByteRange): Promise<{ entry: StoredEntry; stream: Readable }>;
  /**
   * Writes a file from a stream, atomically: to a temporary name beside it,
   * renamed over the name only once complete (the rename is `commit`'s
   * `apply`). More than `limit.bytes` stops the write with `limit.error()`;
   * nothing is left behind on any failure.
   */
  write(workspaceId: string, path: string, body: Readable, limit: WriteLimit, commit: Commit<{ size: number; replaced: boolean }>): Promise<{ entry: StoredEntry; replaced: boolean }>;
  /** Creates a folder and its missing parents; `file_exists` when something is there. */
  makeFolder(workspaceId: string, path: string, commit: Commit<undefined>): Promise<StoredEntry>;
  /**
   * Deletes a file, or a folder (empty unless `recursive`: `folder_not_empty`);
   * `commit` learns what it deletes. A folder deleted recursively is first
   * renamed aside (the commit), then its content removed.
   */
  remove(workspaceId: string, path: string, options: { recursive: boolean }, commit: Commit<StoredEntry>): Promise<StoredEntry>;
  /** Moves an entry (its missing target folders made in `commit`'s `apply`); `file_exists` at the target unless `overwrite` (files only). */
  move(workspaceId: string, from: string, to: string, options: { overwrite: boolean }, commit: Commit<undefined>): Promise<StoredEntry>;
  /** Bytes used by a workspace's files (uploads in flight not included). */
  usage(workspaceId: string): Promise<number>;
}

const isMissing = (error: unknown) => (error as { code?: string }).code === 'ENOENT';
const isNotFolder = (error: unknown) => (error as { code?: string }).code === 'ENOTDIR';

/**
 * The local implementation: `<root>/<workspaceId>/<path>`. Runs mount the
 * workspace's folder and write in it as the run user, so what this storage
 * makes must be theirs to change too: with `owner` (the run user, when the
 * service runs as root) every folder and file it makes is given to them;
 * without, folders are group-writable and files group-readable, shared when
 * the service and the run user share a group.
 */
export function createLocalStorage(root: string, options: { owner?: { uid: number; gid: number } } = {}): FileStorage {
  const { owner } = options;
  const workspaceRoot = (workspaceId: string) => join(root, workspaceId);

  /** Makes `folder` and its missing parents; each one made goes to `owner`. */
  async function makeFolders(folder: string): Promise<void> {
    const first = await mkdir(folder, { recursive: true, mode: 0o775 });
    if (!owner || first === undefined) return;
    // `first` is the outermost folder made: it and every folder below it down to `folder` are new.
    const made: string[] = [];
    for (let current = resolve(folder); ; current = dirname(current)) {
      made.push(current);
      if (current === resolve(first) || dirname(current) === current) break;
    }
    // lchown: a name swapped for a link meanwhile is not followed out of the workspace.
    for (const path of made.reverse()) await lchown(path, owner.uid, owner.gid);
  }

  /** The workspace's folder, made on first use; its real path (the root may itself be reached through a link). */
  async function realRoot(workspaceId: string): Promise<string> {
    const folder = workspaceRoot(workspaceId);
    // The folder of all workspaces stays the service's; each workspace's goes to the owner.
    await mkdir(root, { recursive: true, mode: 0o775 });
    await makeFolders(folder);
    return realpath(folder);
  }

  /**
   * The real location of `path` inside the workspace, following symbolic
   * links and refusing any that leads outside. With `allowMissing`, the part
   * that does not exist yet is appended to the real path of what does.
   */
  async function confined(workspaceId: string, path: string, options: { allowMissing: boolean }): Promise<{ base: string; real: string }> {
    const base = await realRoot(workspaceId);
    const segments = path === '' ? [] : path.split('/');
    let existing = base;
    let index = 0;
    for (; index < segments.length; index += 1) {
      const next = join(existing, segments[index]!);
      try {
        existing = await realpath(next);
      } catch (error) {
        if (isMissing(error) && options.allowMissing) break;
        if (isMissing(error)) throw httpError('file_not_found', `Nothing at ${path}.`);
        if (isNotFolder(error)) throw httpError('not_a_folder', `A part of ${path} is a file, not a folder.`);
        throw error;
      }
      if (existing !== base && !existing.startsWith(base + sep)) {
        throw httpError('invalid_path', `${path} leads outside the workspace's folder (a symbolic link).`);
      }
    }
    return { base, real: join(existing, ...segments.slice(index)) };
  }

  function entryOf(path: string, stats: { isDirectory(): boolean; size: number; mtime: Date }): StoredEntry {
    const name = path.split('/').pop() ?? '';
    return { name, path, type: stats.isDirectory() ? 'folder' : 'file', size: stats.isDirectory() ? 0 : stats.size, modified: stats.mtime };
  }

  async function statEntry(workspaceId: string, path: string): Promise<StoredEntry | undefined> {
    try {
      const { real } = await confined(workspaceId, path, { allowMissing: false });
      return entryOf(path, await stat(real));
    } catch (error) {
      if ((error as { code?: string }).code === 'file_not_found') return undefined;
      throw error;
    }
  }

  async function folderSize(folder: string): Promise<number> {
    let total = 0;
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
    for (const entry of entries) {
      // Links are not followed: what they point to is counted where it lives (or not at all, outside).
      // Uploads in flight are not files yet: the upload budget counts their bytes.
      if (entry.isSymbolicLink() || entry.name.startsWith(uploadTempPrefix)) continue;
      const full = join(folder, entry.name);
      if (entry.isDirectory()) total += await folderSize(full);
      else if (entry.isFile()) total += (await lstat(full).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }

  return {
    async list(workspaceId, folder) {
      const { base, real } = await confined(workspaceId, folder, { allowMissing: false });
      const folderStats = await stat(real);
      if (!folderStats.isDirectory()) throw httpError('not_a_folder', `${folder} is a file, not a folder.`);
      const entries: StoredEntry[] = [];
      for (const dirent of await readdir(real, { withFileTypes: true })) {
        if (dirent.name.startsWith(uploadTempPrefix)) continue;
        const path = folder === '' ? dirent.name : `${folder}/${dirent.name}`;
        const full = join(real, dirent.name);
        try {
          // A link is listed as what it points to when that is inside the workspace, and left out otherwise.
          const target = dirent.isSymbolicLink() ? await realpath(full) : full;
          if (target !== base && !target.startsWith(base + sep)) continue;
          entries.push(entryOf(path, await stat(target)));
        } catch {
          // Gone meanwhile, or a dangling link: not listed.
        }
      }
      return entries;
    },

    stat: statEntry,

    async read(workspaceId, path, range) {
      const { real } = await confined(workspaceId, path, { allowMissing: false });
      // O_NOFOLLOW: the real path was checked; a link put there since is refused, not followed.
      const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
        if (isMissing(error)) throw httpError('file_not_found', `Nothing at ${path}.`);
        if ((error as { code?: string }).code === 'ELOOP') throw httpError('invalid_path', `${path} changed into a symbolic link.`);
        throw error;
      });
      const stats = await handle.stat();
      if (stats.isDirectory()) {
        await handle.close();
        throw httpError('is_a_folder', `${path} is a folder; list it with ?prefix=.`);
      }
      const stream = createReadStream('', { fd: handle, autoClose: true, ...(range ? { start: range.start, end: range.end } : {}) });
      return { entry: entryOf(path, stats), stream };
    },

    async write(workspaceId, path, body, limit, commit) {
      const { base, real } = await confined(workspaceId, path, { allowMissing: true });
      const folder = dirname(real);
      await makeFolders(folder).catch((error: unknown) => {
        if (isNotFolder(error) || (error as { code?: string }).code === 'EEXIST') throw httpError('not_a_folder', `A part of ${path} is a file, not a folder.`);
        throw error;
      });
      // The folders just made are checked again: a link may have appeared in the meantime.
      const realFolder = await realpath(folder);
      if (realFolder !== base && !realFolder.startsWith(base + sep)) throw httpError('invalid_path', `${path} leads outside the workspace's folder (a symbolic link).`);
      const existing = await lstat(join(realFolder, real.slice(folder.length + 1))).catch(() => undefined);
      if (existing?.isDirectory()) throw httpError('is_a_folder', `${path} is a folder.`);
      const target = join(realFolder, real.slice(folder.length + 1));
      const temporary = join(realFolder, `${uploadTempPrefix}${randomUUID()}`);
      let written = 0;
      let replaced = false;
      let limitError: Error | undefined;
      // O_EXCL | O_NOFOLLOW: a fresh file of our own, never a link someone placed.
      const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o664);
      if (owner) await handle.chown(owner.uid, owner.gid);
      const output = handle.createWriteStream();
      try {
        await pipeline(
          body,
          async function* count(source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              written += chunk.length;
              if (written > limit.bytes) {
                limitError = limit.error();
                throw limitError;
              }
              yield chunk;
            }
          },
          output,
        );
        // The rename is the commit: before it, the name shows the previous file (or nothing); after it, all of this one.
        // Whether it replaced something is asked at that moment: another upload may have committed meanwhile.
        replaced = (await lstat(target).catch(() => undefined)) !== undefined;
        await commit({ size: written, replaced }, () => rename(temporary, target));
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw limitError ?? error;
      }
      return { entry: entryOf(path, await stat(target)), replaced };
    },

    async makeFolder(workspaceId, path, commit) {
      const { base, real } = await confined(workspaceId, path, { allowMissing: true });
      if (await statEntry(workspaceId, path)) throw httpError('file_exists', `Something is already at ${path}.`);
      await commit(undefined, async () => {
        await makeFolders(real).catch((error: unknown) => {
          if (isNotFolder(error) || (error as { code?: string }).code === 'EEXIST') throw httpError('not_a_folder', `A part of ${path} is a file, not a folder.`);
          throw error;
        });
      });
      const made = await realpath(real);
      if (!made.startsWith(base + sep)) throw httpError('invalid_path', `${path} leads outside the workspace's folder (a symbolic link).`);
      return entryOf(path, await stat(made));
    },

    async remove(workspaceId, path, options, commit) {
      if (path === '') throw httpError('invalid_path', "The workspace's root folder cannot be deleted.");
      const { base, real } = await confined(workspaceId, path, { allowMissing: false });
      // The name itself is removed, not what a link points to.
      const parent = await realpath(dirname(join(base, path)));
      const own = join(parent, path.split('/').pop()!);
      const stats = await lstat(own);
      const entry = entryOf(path, await stat(real));
      if (stats.isDirectory() && options.recursive) {
        // Renamed aside under a reserved name (never listed nor counted), so that the delete is one step
        // that either happens with its audit entry or not at all; the content goes afterwards.
        const aside = join(parent, `${uploadTempPrefix}${randomUUID()}`);
        await commit(entry, () => rename(own, aside));
        await rm(aside, { recursive: true, force: true });
      } else if (stats.isDirectory()) {
        await commit(entry, () =>
          rmdir(own).catch((error: unknown) => {
            if ((error as { code?: string }).code === 'ENOTEMPTY' || (error as { code?: string }).code === 'EEXIST') {
              throw httpError('folder_not_empty', `${path} is not empty; delete it with ?recursive=true.`);
            }
            throw error;
          }),
        );
      } else await commit(entry, () => unlink(own));
      return entry;
    },

    async move(workspaceId, from, to, options, commit) {
      if (from === to) throw httpError('invalid_path', 'The source and the target are the same.');
      if (to.startsWith(`${from}/`)) throw httpError('invalid_path', 'A folder cannot move into itself.');
      const source = await confined(workspaceId, from, { allowMissing: false });
      const sourceParent = await realpath(dirname(join(source.base, from)));
      const own = join(sourceParent, from.split('/').pop()!);
      const sourceStats = await lstat(own);
      const target = await confined(workspaceId, to, { allowMissing: true });
      const existing = await lstat(target.real).catch(() => undefined);
      if (existing && (!options.overwrite || existing.isDirectory() || sourceStats.isDirectory())) {
        throw httpError('file_exists', `Something is already at ${to}${options.overwrite ? ' (only a file replaces a file)' : '; send overwrite: true to replace a file'}.`);
      }
      let destination = '';
      await commit(undefined, async () => {
        await makeFolders(dirname(target.real)).catch((error: unknown) => {
          if (isNotFolder(error) || (error as { code?: string }).code === 'EEXIST') throw httpError('not_a_folder', `A part of ${to} is a file, not a folder.`);
          throw error;
        });
        const targetFolder = await realpath(dirname(target.real));
        if (targetFolder !== target.base && !targetFolder.startsWith(target.base + sep)) throw httpError('invalid_path', `${to} leads outside the workspace's folder (a symbolic link).`);
        destination = join(targetFolder, to.split('/').pop()!);
        await rename(own, destination);
      });
      return entryOf(to, await stat(destination));
    },

    async usage(workspaceId) {
      return folderSize(workspaceRoot(workspaceId));
    },
  };
}
