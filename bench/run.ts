/**
 * `pnpm bench`: runs each scenario against the platform as `npm start` runs it
 * (real processes, on a database of its own), side by side with its floor in
 * the same run, and writes docs/benchmarks.md.
 *
 *   pnpm bench [-- --only gateway,files] [--duration 10] [--runs 3]
 */
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startPlatform } from '../deploy/local/test/platform.js';
import type { Section } from './report.js';
import { renderReport } from './report.js';
import { filesTransfer } from './scenarios/files.js';
import { gatewayOverhead } from './scenarios/gateway.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    port: { type: 'string', default: '35080' },
  },
});
const settings = { duration: Number(values.duration), runs: Number(values.runs) };
const scenarios = {
  gateway: gatewayOverhead,
  files: filesTransfer,
} as const;
const selected = values.only ? values.only.split(',') : Object.keys(scenarios);

const platform = await startPlatform({ serverUrl: 'postgres://postgres@127.0.0.1:5432/postgres', port: Number(values.port) });
const sections: Section[] = [];
try {
  for (const name of selected) {
    const scenario = scenarios[name as keyof typeof scenarios];
    if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
    process.stderr.write(`[bench] ${name}\n`);
    sections.push(await scenario(platform, settings));
  }
} finally {
  await platform.stop();
}

const [postgres] = await (async () => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    return [(await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version];
  } finally {
    await client.end();
  }
})();
const report = renderReport({
  date: new Date(),
  machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, PostgreSQL ${postgres}`,
  settings,
  sections,
});
writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), report);
process.stdout.write(report);
