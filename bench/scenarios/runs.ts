import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Platform } from '../../deploy/local/test/platform.js';
import { percentile, round } from '../load.js';
import { ratio, type Section } from '../report.js';

/** The platform's default run image (built by `ensure_runner_images`) and a command that runs a moment. */
const image = 'hexa/base-environment:latest';
const command = ['sh', '-c', 'sleep 1'];
const concurrent = 20;
/** How often a run's status is read while waiting for `running`. */
const pollMs = 20;
/** A run that has not ended by then fails the scenario instead of hanging it. */
const runDeadlineMs = 120_000;
/** The Docker CLI of Debian's docker.io, which `ensure_docker` installs. */
const dockerCli = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function api<T>(platform: Platform, token: string, method: string, path: string, body?: object): Promise<T> {
  const response = await fetch(`${platform.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Launches a run and answers how long it took to be `running`, and how it ended. */
async function launchToRunning(platform: Platform, token: string, slug: string): Promise<{ ms: number; status: string }> {
  const started = performance.now();
  const run = await api<{ id: string }>(platform, token, 'POST', `/workspaces/${slug}/pipelines/sleep/runs`, {});
  let runningAfter: number | undefined;
  for (;;) {
    if (performance.now() - started > runDeadlineMs) throw new Error(`run ${run.id} did not end within ${runDeadlineMs} ms`);
    const { status } = await api<{ status: string }>(platform, token, 'GET', `/workspaces/${slug}/runs/${run.id}`);
    if (runningAfter === undefined && status !== 'queued') runningAfter = performance.now() - started;
    if (!['queued', 'running'].includes(status)) return { ms: runningAfter ?? Number.NaN, status };
    await sleep(pollMs);
  }
}

/**
 * What the runner gives every run's container (services/runner, docker-engine.ts): its user, folder, limits,
 * no capabilities, the workspace's folder mounted, the host's name for the database relay, its network. The second floor
 * runs `docker run` with them, so that the platform's own cost shows apart from the isolation's.
 */
const runSettings = (folder: string) => [
  '--user', '1000:1000', '--workdir', '/home/hexa/workspace', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
  '--memory', '1g', '--memory-swap', '1g', '--cpus', '1', '--pids-limit', '256',
  '--volume', `${folder}:/home/hexa/workspace`, '--add-host', 'host.docker.internal:host-gateway',
  // The runner's network without inter-container traffic (RUN_NETWORK's default; the platform's worker made it).
  '--network', 'hexa-runs',
];

/** `docker run -d` of the same image and command (with the given options): it answers once the container runs. */
function dockerRun(options: string[] = []): number {
  const started = performance.now();
  const result = spawnSync(dockerCli, ['run', '-d', '--rm', ...options, image, ...command], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`docker run failed: ${result.stderr}`);
  return performance.now() - started;
}

async function dockerRunConcurrently(count: number): Promise<number[]> {
  const { spawn } = await import('node:child_process');
  return Promise.all(
    Array.from({ length: count }, () => {
      const started = performance.now();
      return new Promise<number>((resolve, reject) => {
        const child = spawn(dockerCli, ['run', '-d', '--rm', image, ...command], { stdio: 'ignore' });
        child.once('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`docker run exited ${code}`))));
      });
    }),
  );
}

const factor = (value: number) => `${Math.round(value * 100) / 100}×`;
/** Single launches measured: enough for a median that one slow start does not move. */
const singleRuns = (settings: { runs: number }) => Math.max(7, settings.runs);

const summary = (times: number[]) => {
  const sorted = Float64Array.from(times).sort();
  return { p50: round(percentile(sorted, 0.5)), max: round(sorted[sorted.length - 1] ?? Number.NaN) };
};

/**
 * Launch → `running` of one run (the median of `runs`) and of 20 launched at
 * once, through the gateway and the runner, against `docker run -d` of the
 * same image and command from the CLI (the floor).
 */
export async function runLatency(platform: Platform, settings: { runs: number }): Promise<Section> {
  const token = await platform.login();
  const { slug } = await api<{ slug: string }>(platform, token, 'POST', '/workspaces', { name: 'Bench Runs' });
  for (let waited = 0; (await api<{ status: string }>(platform, token, 'GET', `/workspaces/${slug}`)).status !== 'ready'; waited += 100) {
    if (waited > 60_000) throw new Error('the workspace database did not become ready');
    await sleep(100);
  }
  await api(platform, token, 'POST', `/workspaces/${slug}/pipelines`, { code: 'sleep', name: 'Sleep a second', command, timeoutSeconds: 60 });
  dockerRun(); // the image's layers in the page cache for both sides

  const folder = mkdtempSync(join(tmpdir(), 'hexa-bench-run-'));
  const single: number[] = [];
  const floor: number[] = [];
  const settledFloor: number[] = [];
  for (let run = 0; run < singleRuns(settings); run += 1) {
    single.push((await launchToRunning(platform, token, slug)).ms);
    floor.push(dockerRun());
    settledFloor.push(dockerRun(runSettings(folder)));
    await sleep(1500); // the floors' containers end before the next launch
  }
  rmSync(folder, { recursive: true, force: true });
  const burst = await Promise.all(Array.from({ length: concurrent }, () => launchToRunning(platform, token, slug)));
  await sleep(1500);
  const burstFloor = await dockerRunConcurrently(concurrent);
  const failures = burst.filter((result) => result.status !== 'succeeded').length;

  const one = summary(single);
  const oneFloor = summary(floor);
  const oneSettledFloor = summary(settledFloor);
  const many = summary(burst.map((result) => result.ms));
  const manyFloor = summary(burstFloor);
  const ms = (value: number) => `${Math.round(value)} ms`;
  return {
    title: 'Runs: launch to running',
    method: `\`POST …/pipelines/{code}/runs\` through the gateway until the run reads \`running\` (polled every ${pollMs} ms), one at a time (${singleRuns(settings)} runs) and ${concurrent} launched at once in one workspace (its concurrency limit queues the extra ones), against \`docker run -d\` of the same image (\`${image}\`) and command from the CLI, one at a time and ${concurrent} at once, and one at a time with the settings the runner gives every run's container (user 1000, no capabilities, memory, CPU and PID limits, the workspace's folder mounted, the host's name for the database relay).`,
    table: {
      columns: ['subject', 'p50 (ms)', 'max (ms)'],
      rows: [
        ['one run through the platform', String(one.p50), String(one.max)],
        ['one `docker run -d`', String(oneFloor.p50), String(oneFloor.max)],
        ["one `docker run -d` with a run's settings", String(oneSettledFloor.p50), String(oneSettledFloor.max)],
        [`${concurrent} runs at once through the platform`, String(many.p50), String(many.max)],
        [`${concurrent} \`docker run -d\` at once`, String(manyFloor.p50), String(manyFloor.max)],
      ],
    },
    ratios: [
      ratio('one run: platform ÷ docker run (p50)', one.p50 / oneFloor.p50, { atMost: 1.3 }, factor),
      ratio("one run: platform ÷ docker run with a run's settings (p50)", one.p50 / oneSettledFloor.p50, { atMost: 1.3 }, factor),
      ratio(`${concurrent} at once: runs that did not succeed`, failures, { atMost: 0 }, String),
    ],
    notes: [`Of the ${concurrent} launched at once, the last was running after ${ms(many.max)}: the workspace's concurrency limit starts them a few at a time, none is dropped.`],
  };
}
