/** What `within` rejects with when the work did not settle in time. */
export class TimedOut extends Error {
  override name = 'TimedOut';
}

/**
 * Rejects when `work` has not settled within `ms`; clears its timer either
 * way. For waits on a dependency that may hang instead of failing.
 *
 * @example
 * await within(2000, pingRedis(redis));
 */
export async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
