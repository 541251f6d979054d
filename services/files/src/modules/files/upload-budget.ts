/** One upload's share of its workspace's quota. */
export interface UploadShare {
  /** Bytes the upload may still write now (what the others in flight have taken is not available). */
  available(): number;
  /** Takes bytes as they arrive; false (and nothing taken) when they would pass the quota. */
  take(bytes: number): boolean;
  /** The upload was renamed into place: its bytes are used now, the file it replaced (if any) is not. */
  commit(replacedBytes: number): void;
  /** The upload failed: what it took is free again. */
  release(): void;
}

interface Ledger {
  /** Bytes of committed files when the ledger opened (a walk of the folder). */
  measured: Promise<number>;
  /** Committed since then by uploads of this process (new bytes minus the files they replaced). */
  committed: number;
  /** Taken by uploads still in flight. */
  inFlight: number;
  uploads: number;
}

/**
 * The quota for concurrent uploads to one workspace. Each upload takes its
 * bytes from one ledger per workspace as they arrive, so that uploads racing
 * each other together stay within the quota (a check of the folder's size at
 * each upload's start would let every one of them have what was free then).
 * The folder is walked when a workspace's first upload in flight opens its
 * ledger, and the ledger is dropped when its last upload ends, so deletes and
 * files written by runs count again from the next upload on.
 *
 * The ledger is this process's: with several replicas of the files service,
 * uploads to one workspace must reach one replica (docs/decisions/0026).
 */
export function createUploadBudget(deps: { quotaBytes: number; usage: (workspaceId: string) => Promise<number> }) {
  const ledgers = new Map<string, Ledger>();

  return {
    /** Opens an upload's share; `replacingBytes` is the size of the file it will replace (0 for a new one). */
    async open(workspaceId: string, replacingBytes: number): Promise<UploadShare> {
      let ledger = ledgers.get(workspaceId);
      if (!ledger) {
        ledger = { measured: deps.usage(workspaceId), committed: 0, inFlight: 0, uploads: 0 };
        ledgers.set(workspaceId, ledger);
      }
      const own = ledger;
      own.uploads += 1;
      let taken = 0;
      let open = true;
      let measured: number;
      try {
        measured = await own.measured;
      } catch (error) {
        close();
        throw error;
      }
      function close() {
        own.inFlight -= taken;
        taken = 0;
        own.uploads -= 1;
        if (own.uploads === 0 && ledgers.get(workspaceId) === own) ledgers.delete(workspaceId);
      }
      const available = () => deps.quotaBytes + replacingBytes - (measured + own.committed + own.inFlight);
      return {
        available,
        take(bytes) {
          if (bytes > available()) return false;
          taken += bytes;
          own.inFlight += bytes;
          return true;
        },
        commit(replacedBytes) {
          if (!open) return;
          open = false;
          own.committed += taken - replacedBytes;
          close();
        },
        release() {
          if (!open) return;
          open = false;
          close();
        },
      };
    },
  };
}

export type UploadBudget = ReturnType<typeof createUploadBudget>;
