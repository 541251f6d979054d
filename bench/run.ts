/**
 * `pnpm bench`: runs each scenario against the platform as `npm start` runs it
 * (real processes, on a database of its own), side by side with its floor in
 * the same run, and writes docs/benchmarks.md.
 *
 *   pnpm bench [-- --only gateway,listing,load,files,runs,provisioning] [--duration 10] [--runs 3] [--load-duration 60] [--provisioning-batch 50] [--profile DIR] [--heap-snapshots DIR] [--node-args FLAGS]
 *
 * `listing` and `load` run against an organization of 50,000 workspaces
 * seeded first; `load` ends with every process's memory after it idled.
 * `--profile DIR` runs every process with `--cpu-prof` and leaves a
 * `.cpuprofile` per process in DIR (open it in Chrome's DevTools);
 * `--heap-snapshots DIR` writes a `.heapsnapshot` of every server into DIR
 * once the memory after the load is measured (what the heap still holds);
 * `--node-args` gives every process other Node.js flags (to try V8 settings).
 */
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startPlatform } from '../deploy/local/test/platform.js';
import type { Section } from './report.js';
import { renderReport } from './report.js';
import { filesTransfer } from './scenarios/files.js';
import { provisioningLatency } from './scenarios/provisioning.js';
import { runLatency } from './scenarios/runs.js';
import { gatewayOverhead } from './scenarios/gateway.js';
import { listing } from './scenarios/listing.js';
import { sustainedLoad } from './scenarios/load.js';
import { memoryAfterLoad, residentMemory, writeHeapSnapshots } from './scenarios/memory.js';
import { seedOrganization, type Organization } from './seed.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    'load-duration': { type: 'string', default: '60' },
    // Workspaces created at once by the provisioning scenario (issue 11: 50).
    'provisioning-batch': { type: 'string', default: '50' },
    port: { type: 'string', default: '27080' },
    profile: { type: 'string' },
    'heap-snapshots': { type: 'string' },
    'node-args': { type: 'string' },
  },
});
const settings = { duration: Number(values.duration), runs: Number(values.runs), loadDuration: Number(values['load-duration']) };
const known = ['gateway', 'listing', 'load', 'files', 'runs', 'provisioning'];
const selected = values.only ? values.only.split(',') : known;
for (const name of selected) if (!known.includes(name)) throw new Error(`unknown scenario ${name}; known: ${known.join(', ')}`);
/** The organization the listing and load scenarios run against, and who is a member of how many of its workspaces. */
const organizationSize = 50_000;

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
const reportFile = new URL('../docs/benchmarks.md', import.meta.url);
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, PostgreSQL ${postgres}`;
const started = new Date();
/** Writes the report with what is measured so far: a scenario that fails later loses nothing before it. */
function writeReport(sections: Section[]): string {
  // Sections this run did not measure stay as they were.
  const report = renderReport({ date: started, machine, settings, sections, previous: existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '' });
  writeFileSync(reportFile, report);
  return report;
}

const platform = await startPlatform({
  serverUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  port: Number(values.port),
  env: {
    // Tokens signed in at seeding last the whole bench.
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    HEXA_NODE_ARGS: [
      values['node-args'] ?? '',
      values.profile ? `--cpu-prof --cpu-prof-dir=${resolve(values.profile)}` : '',
      values['heap-snapshots'] ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${resolve(values['heap-snapshots'])}` : '',
    ]
      .join(' ')
      .trim(),
  },
});
const sections: Section[] = [];
const step = (name: string) => {
  if (sections.length > 0) writeReport(sections);
  process.stderr.write(`[bench] ${new Date().toISOString()} ${name}\n`);
};
try {
  if (selected.includes('gateway')) {
    step('gateway');
    sections.push(await gatewayOverhead(platform, settings));
  }
  // Before the load, whose thousands of creates leave database provisioning (and the machine) busy for minutes.
  if (selected.includes('files')) {
    step('files');
    sections.push(await filesTransfer(platform, settings));
  }
  if (selected.includes('runs')) {
    step('runs');
    sections.push(await runLatency(platform, settings));
  }
  if (selected.includes('provisioning')) {
    step('provisioning');
    sections.push(await provisioningLatency(platform, { ...settings, batch: Number(values['provisioning-batch']) }));
  }
  if (selected.includes('listing') || selected.includes('load')) {
    step(`seeding an organization of ${organizationSize}`);
    const before = residentMemory(platform);
    const organization: Organization = await seedOrganization(platform, { size: organizationSize, memberships: [5000, 50] });
    if (selected.includes('listing')) {
      step('listing');
      sections.push(await listing(platform, settings, organization));
    }
    if (selected.includes('load')) {
      step('load');
      sections.push(await sustainedLoad(platform, settings, organization));
      step('memory');
      sections.push(await memoryAfterLoad(platform, before, 30));
      if (values['heap-snapshots']) {
        step('heap snapshots');
        await writeHeapSnapshots(platform, resolve(values['heap-snapshots']));
      }
    }
  }
} finally {
  await platform.stop();
}

process.stdout.write(writeReport(sections));
