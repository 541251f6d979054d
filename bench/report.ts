import type { Figure } from './load.js';

/** A ratio with the target it is held to. */
export interface Ratio {
  name: string;
  value: number;
  /** e.g. `≥ 50 %` */
  target: string;
  met: boolean;
}

export interface Section {
  title: string;
  /** What was measured and how, in a sentence or two. */
  method: string;
  figures: Figure[];
  /** A table of its own, for what is not requests per second (transfers). */
  table?: { header: string[]; rows: string[][] };
  ratios: Ratio[];
  notes?: string[];
}

const percent = (value: number) => `${Math.round(value * 100)} %`;

export function ratio(name: string, value: number, target: { atLeast?: number; atMost?: number }, format: (value: number) => string = percent): Ratio {
  const met = (target.atLeast === undefined || value >= target.atLeast) && (target.atMost === undefined || value <= target.atMost);
  const bound = target.atLeast !== undefined ? `≥ ${format(target.atLeast)}` : `≤ ${format(target.atMost!)}`;
  return { name, value: Number(format(value).replace(/[^\d.]/g, '')), target: `${bound}`, met };
}

export function renderReport(report: { date: Date; machine: string; settings: { duration: number; runs: number }; sections: Section[] }): string {
  const lines = [
    '<!-- Written by `pnpm bench` (bench/run.ts). Rerun it rather than editing this file. -->',
    '# Benchmarks',
    '',
    `Run on ${report.date.toISOString().slice(0, 10)} (${report.date.toISOString()}), on ${report.machine}.`,
    `Each subject ran ${report.settings.duration} s per run; figures are the median of ${report.settings.runs} runs, every subject of a scenario in the same run, alternating.`,
    'Latencies in milliseconds, measured from every response.',
    '',
  ];
  for (const section of report.sections) {
    lines.push(`## ${section.title}`, '', section.method, '');
    if (section.figures.length > 0) {
      lines.push('| subject | req/s | p50 | p95 | p99 | errors | non-2xx |', '|---|---:|---:|---:|---:|---:|---:|');
      for (const figure of section.figures) {
        lines.push(`| ${figure.subject} | ${figure.requestsPerSecond} | ${figure.p50} | ${figure.p95} | ${figure.p99} | ${figure.errors} | ${figure.non2xx} |`);
      }
      lines.push('');
    }
    if (section.table) {
      lines.push(`| ${section.table.header.join(' | ')} |`, `|---|${section.table.header.slice(1).map(() => '---:').join('|')}|`);
      for (const row of section.table.rows) lines.push(`| ${row.join(' | ')} |`);
      lines.push('');
    }
    if (section.ratios.length > 0) {
      lines.push('| ratio | value | target | |', '|---|---:|---|---|');
      for (const item of section.ratios) lines.push(`| ${item.name} | ${item.value}${item.target.includes('%') ? ' %' : ''} | ${item.target} | ${item.met ? 'met' : '**missed**'} |`);
      lines.push('');
    }
    for (const note of section.notes ?? []) lines.push(`- ${note}`);
    if (section.notes?.length) lines.push('');
  }
  return lines.join('\n');
}
