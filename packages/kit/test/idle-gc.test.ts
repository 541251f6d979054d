import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbageWhenIdle } from '../src/idle-gc.js';

describe('when a server goes from load to idle', () => {
  /** Feeds the collector one utilisation per sample; resolves with how many collections ran once all were read. */
  async function collectionsFor(samples: number[]): Promise<number> {
    const queue = [...samples];
    let collections = 0;
    let drained!: () => void;
    const done = new Promise<void>((resolve) => (drained = resolve));
    const collector = collectGarbageWhenIdle({
      gc: () => (collections += 1),
      utilization: () => {
        const share = queue.shift();
        if (queue.length === 0) drained();
        // Past the samples given: a lull, neither load nor idle.
        return share ?? 0.05;
      },
      intervalMs: 1,
    });
    await done;
    // The collections of the last sample run in the next turns of the event loop.
    await sleep(20);
    collector.stop();
    return collections;
  }

  it('collects the garbage once the load is over, in three collections that compact what the first leaves', async () => {
    expect(await collectionsFor([0.9, 0.8, 0.001, 0.001, 0.001])).toBe(3);
  });

  it('never collects in a process that was never loaded', async () => {
    expect(await collectionsFor([0.001, 0.01, 0.001, 0.001])).toBe(0);
  });

  it('does not collect while the load goes on, nor in a lull that is not idle', async () => {
    expect(await collectionsFor([0.9, 0.05, 0.9, 0.5])).toBe(0);
  });

  it('collects again after each new load', async () => {
    expect(await collectionsFor([0.9, 0.001, 0.001, 0.7, 0.001])).toBe(6);
  });

  it('does nothing when node runs without --expose-gc', async () => {
    let read = 0;
    const collector = collectGarbageWhenIdle({ gc: undefined, utilization: () => (read += 1), intervalMs: 1 });
    await sleep(20);
    collector.stop();
    // Without `gc` (none in this test process) no timer is even started.
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(read).toBe(0);
  });
});
