/**
 * The user code runs as in its container (the run images' `hexa` user). A
 * workspace's folder of files is mounted into its runs, so what the platform
 * puts there belongs to this user when the platform runs as root: a run can
 * then change, add and delete what came through the API, as the API does
 * with what a run wrote. (Not as root, they share a group instead:
 * docs/operations.md.)
 */
export const runUser = { uid: 1000, gid: 1000 } as const;

/** The owner to give what the platform creates in workspace folders: the run user when running as root, else none. */
export function workspaceFilesOwner(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? runUser : undefined;
}
