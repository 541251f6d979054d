import { Registry, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';
import { within } from './within.js';

/** How long a scrape waits for one gauge's dependency (a BullMQ queue waits for Redis forever otherwise). */
const gaugeReadTimeoutMs = 1000;

/**
 * One Prometheus registry per process, with request latencies; services add
 * gauges (queue depths, outbox lag) that are computed when scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'hexa_http_request_duration_seconds',
      help: 'HTTP request latency by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  /**
   * A gauge whose value is read when Prometheus scrapes; a reader that fails
   * or does not answer within a second leaves the gauge empty.
   */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: (set: (labels: Record<L, string>, value: number) => void) => Promise<void>): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          const values: [Record<L, string>, number][] = [];
          await within(gaugeReadTimeoutMs, read((labels, value) => values.push([labels, value])));
          for (const [labels, value] of values) this.set(labels as never, value);
        } catch {
          // A dependency is down: readiness reports it; the scrape still answers.
        }
      },
    });
  }
}
