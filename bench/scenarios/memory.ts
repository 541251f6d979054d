import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Platform } from '../../deploy/local/test/platform.js';
import type { Section } from '../report.js';

const targetMb = 150;

/** Resident memory of each process of the platform now, in MB, by bundle (`services/workspaces/dist/server.mjs`). */
export function residentMemory(platform: Platform): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [file, pid] of platform.processes()) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kilobytes = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
    sizes.set(file, Math.round(kilobytes / 1024));
  }
  return sizes;
}

/** What a server's V8 heap holds now, in MB, from its /metrics (prom-client's default metrics). */
async function heapOf(url: string): Promise<{ used: number; total: number } | undefined> {
  try {
    const text = await (await fetch(url)).text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1]);
    return { used: Math.round(value('nodejs_heap_size_used_bytes') / 2 ** 20), total: Math.round(value('nodejs_heap_size_total_bytes') / 2 ** 20) };
  } catch {
    return undefined;
  }
}

/**
 * Every server's and worker's resident memory before the load and after it,
 * once the platform has idled for `idleSeconds`.
 */
export async function memoryAfterLoad(platform: Platform, before: Map<string, number>, idleSeconds: number): Promise<Section> {
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const after = residentMemory(platform);
  const files = [...new Set([...before.keys(), ...after.keys()])].sort();
  const heaps = new Map<string, { used: number; total: number } | undefined>();
  for (const file of files) {
    const [, service, kind] = /^services\/(\w+)\/dist\/(\w+)\.mjs$/.exec(file) ?? [];
    if (kind !== 'server' || !service) continue;
    heaps.set(file, await heapOf(service === 'gateway' ? `${platform.url}/api/metrics` : `http://127.0.0.1:${platform.ports[service]}/metrics`));
  }
  return {
    title: 'Memory after the load',
    method: `Resident memory (VmRSS) of every process of the platform (compiled bundles, as \`npm start\` runs them), before the listing and load scenarios and after them, once the platform had idled for ${idleSeconds} s. Target: under ${targetMb} MB each.`,
    table: {
      columns: ['process', 'before (MB)', 'after, idle (MB)', 'of which V8 heap used / reserved (MB)', 'target'],
      rows: files.map((file) => {
        const idle = after.get(file);
        const heap = heaps.get(file);
        return [
          file.replace(/^services\/(\w+)\/dist\/(\w+)\.mjs$/, '$1 $2'),
          String(before.get(file) ?? '–'),
          String(idle ?? 'gone'),
          heap ? `${heap.used} / ${heap.total}` : '–',
          idle !== undefined && idle < targetMb ? 'met' : '**missed**',
        ];
      }),
    },
    ratios: [],
  };
}

/** How long a server may take to write its heap snapshot (a few hundred MB of heap take seconds). */
const snapshotTimeoutMs = 120_000;

/**
 * Asks every server (run with `--heapsnapshot-signal=SIGUSR2
 * --diagnostic-dir=<dir>`) for a heap snapshot, one at a time (each briefly
 * doubles its process's memory), and waits until each is written.
 */
export async function writeHeapSnapshots(platform: Platform, dir: string): Promise<void> {
  const written = () => new Set(readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot')));
  for (const [file, pid] of platform.processes()) {
    if (!file.endsWith('/server.mjs')) continue;
    const before = written();
    try {
      process.kill(pid, 'SIGUSR2');
    } catch {
      process.stderr.write(`[bench] heap snapshot of ${file}: the process is gone\n`);
      continue;
    }
    const deadline = Date.now() + snapshotTimeoutMs;
    // Node names the file `Heap.<date>.<time>.<pid>.<thread>.<seq>.heapsnapshot` and writes it in place: wait for a new one whose size is stable.
    let done = false;
    let lastSize = -1;
    while (!done && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const fresh = [...written()].find((name) => !before.has(name) && name.includes(`.${pid}.`));
      if (!fresh) continue;
      const size = statSync(`${dir}/${fresh}`).size;
      done = size > 0 && size === lastSize;
      lastSize = size;
    }
    process.stderr.write(`[bench] heap snapshot of ${file} (pid ${pid}): ${done ? 'written' : 'not written in time'}\n`);
  }
}
