import autocannon, { type Options, type Result } from 'autocannon';

/** One measured subject of a scenario. */
export interface Figure {
  subject: string;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Answers outside 2xx. */
  non2xx: number;
  /** Answers outside 2xx by status, problem code and detail (`503 service_unavailable "…"`), when the requests were given. */
  failures?: Map<string, number>;
}

export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

export const round = (value: number) => Math.round(value * 100) / 100;

/**
 * Runs autocannon and measures it: throughput from autocannon, latency
 * percentiles from every response time (autocannon reports p97.5, not p95).
 */
export function load(subject: string, options: Options): Promise<Figure> {
  const times: number[] = [];
  const failures = new Map<string, number>();
  const tally = (status: number, body: string) => {
    if (status >= 200 && status < 300) return;
    let problem = '';
    try {
      // The detail tells apart causes that share a code (a 503 from a service's pool, or from the gateway).
      const { code, detail } = JSON.parse(body) as { code?: unknown; detail?: unknown };
      problem = [code, typeof detail === 'string' ? `"${detail}"` : undefined].filter(Boolean).join(' ');
    } catch {
      // not problem+json
    }
    const key = `${status}${problem ? ` ${problem}` : ''}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  };
  // Answers outside 2xx are read for their problem code (autocannon then buffers every body: a little more work for the client).
  const requests = options.requests?.map((request) => ({ ...request, onResponse: (status: number, body: string) => tally(status, body) }));
  return new Promise((resolve, reject) => {
    const instance = autocannon({ ...options, ...(requests ? { requests } : {}) }, (error: Error | null, result: Result) => {
      if (error) return reject(error);
      const sorted = Float64Array.from(times).sort();
      resolve({
        subject,
        requestsPerSecond: Math.round(result.requests.average),
        p50: round(percentile(sorted, 0.5)),
        p95: round(percentile(sorted, 0.95)),
        p99: round(percentile(sorted, 0.99)),
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
        ...(requests ? { failures } : {}),
      });
    });
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => times.push(responseTime));
  });
}

/** The median run, by requests per second, of several runs of the same subject. */
export function median(figures: Figure[]): Figure {
  const sorted = [...figures].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}
