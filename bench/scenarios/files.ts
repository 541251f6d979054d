import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInternalTokens, internalTokenHeader } from '@hexa/kit';
import type { Platform } from '../../deploy/local/test/platform.js';
import { ratio, type Section } from '../report.js';

const fileBytes = 200 * 1024 ** 2;

/** Resident memory of a process (kB from /proc), for the peak growth during a transfer. */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) * 1024;
}

async function timed(work: () => Promise<void>, pids: number[]): Promise<{ seconds: number; growth: number }> {
  const base = pids.map(rssOf);
  let growth = 0;
  const timer = setInterval(() => {
    pids.forEach((pid, index) => {
      growth = Math.max(growth, rssOf(pid) - base[index]!);
    });
  }, 20);
  const started = process.hrtime.bigint();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, growth };
}

function put(url: string, headers: Record<string, string>, source: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(fileBytes) } }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 200 || response.statusCode === 201 ? resolve() : reject(new Error(`upload answered ${response.statusCode}`))));
    });
    request.on('error', reject);
    createReadStream(source).pipe(request);
  });
}

function get(url: string, headers: Record<string, string>, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`download answered ${response.statusCode}`));
        return;
      }
      pipeline(response, createWriteStream(target)).then(resolve, reject);
    });
    request.on('error', reject);
    request.end();
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * A 200 MB file uploaded and downloaded through the gateway, straight to the
 * files service (with the internal token the gateway would mint), and copied
 * with `cp` on the same disk (the floor), with the peak resident-memory growth
 * of the gateway and the files service during each transfer.
 */
export async function filesTransfer(platform: Platform, settings: { runs: number }): Promise<Section> {
  const token = await platform.login();
  const authorization = `Bearer ${token}`;
  const created = await fetch(`${platform.url}/api/workspaces`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bench Files' }) });
  const { slug } = (await created.json()) as { slug: string };
  const me = (await (await fetch(`${platform.url}/api/me`, { headers: { authorization } })).json()) as { id: string };
  const keys = join(platform.stateDir, 'service-keys');
  const gatewayTokens = createInternalTokens({
    service: 'gateway',
    privateKey: readFileSync(join(keys, 'gateway-private.pem'), 'utf8'),
    publicKeys: JSON.parse(readFileSync(join(keys, 'public-keys.json'), 'utf8')) as Record<string, string>,
  });
  const internal = (operation: string) => ({
    [internalTokenHeader]: gatewayTokens.sign({
      audience: 'files',
      operation,
      caller: { kind: 'user', userId: me.id, organizationRole: 'OWNER', adminSomewhere: true, workspace: { slug, role: 'ADMIN', source: 'member' } },
    }),
  });

  // The source and every copy live on the disk of the platform's files.
  const source = join(platform.stateDir, 'bench-source.bin');
  const chunk = Buffer.alloc(1024 ** 2);
  for (let index = 0; index < chunk.length; index += 1) chunk[index] = (index * 31) % 251;
  writeFileSync(source, '');
  for (let index = 0; index < fileBytes / chunk.length; index += 1) writeFileSync(source, chunk, { flag: 'a' });
  const copy = join(platform.stateDir, 'bench-copy.bin');
  const downloaded = join(platform.stateDir, 'bench-download.bin');
  const processes = platform.processes();
  const pids = ['services/gateway/dist/server.mjs', 'services/files/dist/server.mjs'].map((file) => processes.get(file)!);

  const loadBefore = loadavg()[0]!;
  const results: Record<string, { seconds: number; growth: number }[]> = { cp: [], gatewayUp: [], directUp: [], gatewayDown: [], directDown: [] };
  const gatewayUrl = `${platform.url}/api/workspaces/${slug}/files/bench/data.bin`;
  const directUrl = `http://127.0.0.1:${platform.ports.files}/workspaces/${slug}/files/bench/data.bin`;
  for (let run = 0; run < settings.runs; run += 1) {
    results.cp!.push(
      await timed(async () => {
        const done = spawnSync('cp', [source, copy]);
        if (done.status !== 0) throw new Error(`cp failed: ${done.stderr.toString()}`);
      }, pids),
    );
    rmSync(copy, { force: true });
    results.gatewayUp!.push(await timed(() => put(gatewayUrl, { authorization }, source), pids));
    results.directUp!.push(await timed(() => put(directUrl, internal('PUT /workspaces/{slug}/files/{path}'), source), pids));
    results.gatewayDown!.push(await timed(() => get(gatewayUrl, { authorization }, downloaded), pids));
    if (statSync(downloaded).size !== fileBytes) throw new Error('the download is not whole');
    results.directDown!.push(await timed(() => get(directUrl, internal('GET /workspaces/{slug}/files/{path}'), downloaded), pids));
    rmSync(downloaded, { force: true });
  }
  rmSync(source, { force: true });

  const row = (subject: string, key: string) => {
    const seconds = median(results[key]!.map((entry) => entry.seconds));
    const growth = Math.max(...results[key]!.map((entry) => entry.growth));
    return { subject, seconds, growth, rate: fileBytes / 1024 ** 2 / seconds };
  };
  const rows = [
    row('cp on the same disk (floor)', 'cp'),
    row('upload through the gateway', 'gatewayUp'),
    row('upload straight to the files service', 'directUp'),
    row('download through the gateway', 'gatewayDown'),
    row('download straight from the files service', 'directDown'),
  ];
  const [cp, gatewayUp, directUp, gatewayDown, directDown] = rows as [typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0]];
  return {
    title: 'Files: 200 MB up and down',
    method: `A 200 MB file uploaded (\`PUT …/files/{path}\`) and downloaded (written to disk) through the gateway, straight to the files service with the internal token the gateway would mint, and copied with \`cp\` on the same disk; the peak growth of the resident memory of the gateway and the files service during each transfer (sampled every 20 ms from /proc).`,
    table: {
      columns: ['subject', 'seconds', 'MiB/s', 'peak RSS growth (MiB)'],
      rows: rows.map((entry) => [entry.subject, entry.seconds.toFixed(2), entry.rate.toFixed(0), (entry.growth / 1024 ** 2).toFixed(1)]),
    },
    notes: [`Load average (1 min) ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after the transfers, on this machine's shared cores: other jobs ran beside the benchmark, so absolute rates are low; the gateway ÷ direct ratios compare subjects measured in the same conditions.`],
    ratios: [
      ratio('upload: gateway ÷ cp (throughput)', gatewayUp.rate / cp.rate, { atLeast: 0.25 }),
      ratio('upload: gateway ÷ direct (throughput)', gatewayUp.rate / directUp.rate, { atLeast: 0.6 }),
      ratio('download: gateway ÷ cp (throughput)', gatewayDown.rate / cp.rate, { atLeast: 0.25 }),
      ratio('download: gateway ÷ direct (throughput)', gatewayDown.rate / directDown.rate, { atLeast: 0.6 }),
      ratio('peak RSS growth ÷ file size', Math.max(...rows.slice(1).map((entry) => entry.growth)) / fileBytes, { atMost: 0.1 }),
    ],
  };
}
