import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** How often the event loop's utilisation is sampled. */
const sampleIntervalMs = 5_000;
/** A sample busier than this counts as load… */
const busyUtilization = 0.2;
/** …and one quieter than this as idle. */
const idleUtilization = 0.02;
/**
 * Full collections run once idle. The first frees the dead objects but leaves
 * the pages that still hold a few live ones; the next ones compact those
 * pages and give them back (V8's own memory reducer also runs up to three).
 * Measured on a fragmented heap: 138 MB reserved → 123 after one, 82 after
 * two, 41 after three.
 */
const collectionsWhenIdle = 3;

export interface IdleCollectorOptions {
  /** Collects the garbage; `globalThis.gc` (node `--expose-gc`) when left out. */
  gc?: () => void;
  /** The share of time the event loop was busy since the previous call (0–1). */
  utilization?: () => number;
  /** Called after each collection (to log it). */
  collected?: () => void;
  intervalMs?: number;
}

/** The event loop's utilisation between successive calls. */
function eventLoopUtilization(): () => number {
  let previous: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, previous);
    previous = now;
    return delta.utilization;
  };
}

/**
 * Runs a few full garbage collections each time the process goes from load
 * to idle. Under load V8 promotes what in-flight requests hold to the old
 * generation and lets it grow; afterwards nothing allocates, so nothing
 * triggers the major collection that would free it, and V8's own memory
 * reducer had not run 30 s after a load (a gateway at 156 MB of heap "used"
 * whose live heap was 54 MB: docs/decisions/0015-performance.md). Collecting
 * while idle costs no request anything and returns the process to its idle
 * size. Does nothing without `gc` (node run without `--expose-gc`).
 *
 * @example
 * const collector = collectGarbageWhenIdle(); app.addHook('onClose', async () => collector.stop());
 */
export function collectGarbageWhenIdle(options: IdleCollectorOptions = {}): { stop(): void } {
  const gc = options.gc ?? (globalThis as { gc?: () => void }).gc;
  if (!gc) return { stop: () => undefined };
  const utilization = options.utilization ?? eventLoopUtilization();
  let loaded = false;
  const timer = setInterval(() => {
    const share = utilization();
    if (share >= busyUtilization) loaded = true;
    else if (share < idleUtilization && loaded) {
      loaded = false;
      void (async () => {
        for (let collection = 0; collection < collectionsWhenIdle; collection += 1) {
          // One at a time, each in its own turn of the event loop: a request arriving meanwhile waits for one collection at most.
          await nextTurn();
          gc();
        }
        options.collected?.();
      })();
    }
  }, options.intervalMs ?? sampleIntervalMs);
  // Never what keeps a process alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
