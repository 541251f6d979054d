import { crashesInARow, defaultRestartPolicy as policy, restartDelayMs } from '../restart.js';

describe('the supervisor restart backoff', () => {
  it('doubles from 1 s with each crash in a row and stops growing at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 12, 100, 10_000].map((crashes) => restartDelayMs(crashes, policy))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('counts crashes in a row while a process keeps dying young, and starts again from one once it stayed up a minute', () => {
    let crashes = 0;
    for (let crash = 1; crash <= 20; crash += 1) crashes = crashesInARow(crashes, 500, policy);
    expect(crashes).toBe(20);
    expect(restartDelayMs(crashes, policy)).toBe(30_000);
    crashes = crashesInARow(crashes, 60_000, policy);
    expect(crashes).toBe(1);
    expect(restartDelayMs(crashes, policy)).toBe(1_000);
    expect(crashesInARow(crashes, 59_999, policy)).toBe(2);
  });

  it('keeps to a shorter cap when given one', () => {
    expect([1, 2, 3, 4].map((crashes) => restartDelayMs(crashes, { ...policy, maxDelayMs: 2_000 }))).toEqual([1_000, 2_000, 2_000, 2_000]);
  });
});
