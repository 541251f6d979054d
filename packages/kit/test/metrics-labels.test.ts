import { createHttpApp } from '../src/http.js';
import { Metrics } from '../src/metrics.js';

/** The request-latency series the app's registry holds now (one per label set, whatever the buckets). */
async function latencySeries(metrics: Metrics): Promise<string[]> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((item) => item.name === 'hexa_http_request_duration_seconds');
  const values = (metric as { values?: { labels: Record<string, string | number>; metricName?: string }[] } | undefined)?.values ?? [];
  return [...new Set(values.filter((value) => value.metricName?.endsWith('_count')).map((value) => JSON.stringify(value.labels)))];
}

describe('when requests name thousands of workspaces', () => {
  it('keeps one latency series per route and status, never one per slug or unknown path', async () => {
    const metrics = new Metrics('labels-test');
    const app = createHttpApp({ service: 'labels-test', logLevel: 'silent', metrics });
    app.get('/workspaces/:slug', async (request) => ({ slug: (request.params as { slug: string }).slug }));
    await app.ready();
    for (let n = 0; n < 200; n += 1) {
      await app.inject({ method: 'GET', url: `/workspaces/bench-${n}` });
      await app.inject({ method: 'GET', url: `/no-such-path/${n}?page=${n}` });
    }
    const series = await latencySeries(metrics);
    // A label taken from the URL would make 400 series here, and millions in production.
    expect(series.map((labels) => JSON.parse(labels) as Record<string, string>).map(({ route, status }) => `${route} ${status}`).sort()).toEqual([
      '/workspaces/:slug 200',
      'unmatched 404',
    ]);
    await app.close();
  });
});
