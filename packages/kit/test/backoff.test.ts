import { cappedBackoffMs, defaultJobOptions } from '../src/queue.js';

describe('the backoff between attempts of a failed job', () => {
  it('doubles from a second and never exceeds a minute, whatever the attempt', () => {
    const without = () => 1; // no jitter: the longest delay of each attempt
    expect([1, 2, 3, 4, 5, 6, 7, 8, 30, 63].map((attempt) => cappedBackoffMs(attempt, without))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('spreads jobs that failed together over the last fifth of the delay', () => {
    expect(cappedBackoffMs(3, () => 0)).toBe(3200);
    expect(cappedBackoffMs(20, () => 0)).toBe(48_000);
  });

  it('keeps a job for about an hour of retries, so a dependency down for minutes loses nothing', () => {
    const attempts = defaultJobOptions.attempts!;
    let total = 0;
    for (let attempt = 1; attempt < attempts; attempt += 1) total += cappedBackoffMs(attempt, () => 0);
    expect(total).toBeGreaterThan(45 * 60_000);
    expect(defaultJobOptions.backoff).toEqual({ type: 'capped' });
  });
});
