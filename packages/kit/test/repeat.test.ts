import { setTimeout as sleep } from 'node:timers/promises';
import { repeat } from '../src/repeat.js';

describe('when a pass is repeated', () => {
  it('runs at once, never two passes at a time, goes on after a failure, and stop waits for the pass in flight', async () => {
    let running = 0;
    let most = 0;
    let passes = 0;
    let finished = 0;
    const errors: unknown[] = [];
    const loop = repeat(
      async () => {
        passes += 1;
        running += 1;
        most = Math.max(most, running);
        await sleep(15);
        running -= 1;
        finished += 1;
        if (passes === 2) throw new Error('second pass fails');
      },
      { intervalMs: 1, onError: (error) => errors.push(error) },
    );
    await sleep(120);
    await loop.stop();
    const after = passes;
    await sleep(50);
    expect(most).toBe(1);
    expect(passes).toBeGreaterThanOrEqual(3);
    expect(errors).toHaveLength(1);
    // Stopped: the pass in flight finished, and none started after.
    expect(finished).toBe(passes);
    expect(passes).toBe(after);
  });
});
