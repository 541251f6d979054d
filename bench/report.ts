import type { Figure } from './load.js';

/** A ratio with the target it is held to. */
export interface Ratio {
  name: string;
  /** As shown: `42 %`, `1.1×` */
  value: string;
  /** e.g. `≥ 50 %` */
  target: string;
  met: boolean;
}

export interface Section {
  title: string;
  /** What was measured and how, in a sentence or two. */
  method: string;
  /** Measured subjects (throughput and latency). */
  figures?: Figure[];
  /** Or any other table. */
  table?: { columns: string[]; rows: string[][] };
  ratios: Ratio[];
  notes?: string[];
}

const percent = (value: number) => `${Math.round(value * 100)} %`;

export function ratio(name: string, value: number, target: { atLeast?: number; atMost?: number }, format: (value: number) => string = percent): Ratio {
  const met = (target.atLeast === undefined || value >= target.atLeast) && (target.atMost === undefined || value <= target.atMost);
  const bound = target.atLeast !== undefined ? `≥ ${format(target.atLeast)}` : `≤ ${format(target.atMost!)}`;
  return { name, value: format(value), target: bound, met };
}

/** One section as Markdown, headed by its title and the run it comes from. */
function renderSection(section: Section, measured: string): string {
  const lines = [`## ${section.title}`, '', `_Measured ${measured}._ ${section.method}`, ''];
  if (section.figures) {
    lines.push('| subject | req/s | p50 | p95 | p99 | errors | non-2xx |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const figure of section.figures) {
      lines.push(`| ${figure.subject} | ${figure.requestsPerSecond} | ${figure.p50} | ${figure.p95} | ${figure.p99} | ${figure.errors} | ${figure.non2xx} |`);
    }
    lines.push('');
  }
  if (section.table) {
    lines.push(`| ${section.table.columns.join(' | ')} |`, `|${section.table.columns.map(() => '---').join('|')}|`);
    for (const row of section.table.rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
  }
  if (section.ratios.length > 0) {
    lines.push('| ratio | value | target | |', '|---|---:|---|---|');
    for (const item of section.ratios) lines.push(`| ${item.name} | ${item.value} | ${item.target} | ${item.met ? 'met' : '**missed**'} |`);
    lines.push('');
  }
  for (const note of section.notes ?? []) lines.push(`- ${note}`);
  if (section.notes?.length) lines.push('');
  return lines.join('\n');
}

/**
 * The report: a header, then each section. Sections of `previous` (the
 * report as it was) that this run did not measure are kept as they were,
 * each still saying when it was measured, so that `--only` reruns a part.
 */
export function renderReport(report: { date: Date; machine: string; settings: { duration: number; runs: number }; sections: Section[]; previous?: string }): string {
  const header = [
    '<!-- Written by `pnpm bench` (bench/run.ts). Rerun it rather than editing this file. -->',
    '# Benchmarks',
    '',
    `Every section says when and where it was measured. Each subject of a side-by-side comparison runs for the same time, every subject of a scenario in the same run, alternating; figures are the median of the runs (the load runs are shown one by one). Latencies in milliseconds, measured from every response. Rerun with \`pnpm bench\`, or a part with \`pnpm bench -- --only <scenario>\`.`,
    '',
  ].join('\n');
  const measured = `${report.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${report.machine}, ${report.settings.duration} s per subject and run, median of ${report.settings.runs}`;
  const fresh = new Map(report.sections.map((section) => [section.title, renderSection(section, measured)]));
  const previous = report.previous ?? '';
  // A report written before sections carried their own date had it once, in its header.
  const previousRun = /^Run on [^(]*\(([^)]+)\), on ([^\n]+)\.$/m.exec(previous);
  const kept = previous.split(/^(?=## )/m).filter((part) => part.startsWith('## '));
  const sections: string[] = [];
  for (const part of kept) {
    const newline = part.indexOf('\n');
    const title = part.slice(3, newline).trim();
    const dated = part.includes('\n_Measured ') || !previousRun ? part : `${part.slice(0, newline + 2)}_Measured ${previousRun[1]} on ${previousRun[2]}._ ${part.slice(newline + 2)}`;
    sections.push(fresh.get(title) ?? dated.trimEnd() + '\n');
    fresh.delete(title);
  }
  sections.push(...fresh.values());
  return [header, ...sections].join('\n');
}
