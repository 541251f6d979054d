/** A pass that runs again and again; `stop` ends the loop and waits for the pass in flight. */
export interface Repeating {
  stop(): Promise<void>;
}

/**
 * Runs `pass` at once, then again `intervalMs` after each pass ended (never
 * two at a time, whatever a pass takes); a failed pass goes to `onError` and
 * the loop goes on.
 *
 * @example
 * const reconciler = repeat(() => reconcileOnce(), { intervalMs: 5000, onError: (error) => log.warn({ err: error }, 'pass failed') });
 * await reconciler.stop();
 */
export function repeat(pass: () => Promise<unknown>, options: { intervalMs: number; onError?: (error: unknown) => void }): Repeating {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = async () => {
    running = pass().catch((error) => options.onError?.(error));
    await running;
    if (!stopped) timer = setTimeout(tick, options.intervalMs);
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
