import type { Figure } from './load.js';
import { percentile, round } from './load.js';

/**
 * Runs `query` from `connections` concurrent loops for `durationSeconds` and
 * measures it as `load` measures HTTP: the floor an HTTP subject is compared
 * with, at the same concurrency.
 */
export async function measureQuery(subject: string, query: () => Promise<unknown>, options: { connections: number; durationSeconds: number }): Promise<Figure> {
  const times: number[] = [];
  let errors = 0;
  const until = performance.now() + options.durationSeconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      try {
        await query();
        times.push(performance.now() - started);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  const sorted = Float64Array.from(times).sort();
  return {
    subject,
    requestsPerSecond: Math.round(times.length / options.durationSeconds),
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
    errors,
    non2xx: 0,
  };
}
