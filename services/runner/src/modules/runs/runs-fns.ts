import { createHash, randomBytes } from 'node:crypto';
import type { Schemas } from '@hexa/contract';

export const runTokenPrefix = 'hexa_run_';
export const maskedValue = '*****';

/** A run token: shown only to the run's container, stored only as its SHA-256. */
export function generateRunToken(bytes: number): string {
  return `${runTokenPrefix}${randomBytes(bytes).toString('base64url')}`;
}

export function hashRunToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A line of a multi-line secret shorter than this (`{`, `},`) is too common to mask on its own. */
export const minSecretLineChars = 8;

/**
 * Every occurrence of each secret replaced by `*****` (longest first, so a
 * secret that contains another is masked whole). Output is stored a line at
 * a time, so a secret of several lines (a pretty-printed JSON key) is also
 * masked line by line: each of its lines, trimmed, unless trivially short.
 * Empty secrets are ignored.
 *
 * @example
 * maskSecrets('password=abc', ['abc']) // 'password=*****'
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const parts = secrets.flatMap((secret) => [secret, ...(secret.includes('\n') ? secret.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length >= minSecretLineChars) : [])]);
  let masked = text;
  for (const secret of [...new Set(parts)].filter((value) => value.length > 0).sort((a, b) => b.length - a.length)) {
    masked = masked.split(secret).join(maskedValue);
  }
  return masked;
}

/** A single line longer than this is stored in pieces (a secret could then straddle two; lines are rarely this long). */
export const longLineChars = 65_536;

/**
 * Splits buffered raw output into what may be stored now and what must wait:
 * only whole lines go out (a secret, or each line of a multi-line one, is
 * then never split across two writes), unless the run ended or a line grew too long.
 */
export function takeFlushable(pending: string, ended: boolean): { flush: string; rest: string } {
  if (ended) return { flush: pending, rest: '' };
  const lastNewline = pending.lastIndexOf('\n');
  if (lastNewline >= 0) return { flush: pending.slice(0, lastNewline + 1), rest: pending.slice(lastNewline + 1) };
  if (pending.length > longLineChars) return { flush: pending, rest: '' };
  return { flush: '', rest: pending };
}

/** The marker line a truncated log ends with. */
export function truncationMarker(limit: number): string {
  return `\n[hexa] output truncated: only the first ${limit} bytes of this run's output are kept\n`;
}

const utf8 = new TextEncoder();

/**
 * What of a new chunk fits in a log of `storedBytes` bytes (UTF-8) bounded to
 * `limit` bytes, cut between characters; past the limit, the marker once and then nothing.
 */
export function boundedAppend(storedBytes: number, truncated: boolean, chunk: string, limit: number): { append: string; truncated: boolean } {
  if (truncated || chunk.length === 0) return { append: '', truncated };
  const room = Math.max(0, limit - storedBytes);
  if (Buffer.byteLength(chunk) <= room) return { append: chunk, truncated: false };
  // encodeInto writes whole characters only: `read` is where the cut falls.
  const { read } = utf8.encodeInto(chunk, new Uint8Array(room));
  return { append: chunk.slice(0, read) + truncationMarker(limit), truncated: true };
}

export interface FinishedContainer {
  exitCode: number;
  oomKilled: boolean;
}

/** How a run ended, from why it was stopped (if it was) and how its container exited. */
export function outcomeOf(
  container: FinishedContainer,
  stopped: { kind: 'canceled'; reason: string } | { kind: 'timed_out'; timeoutSeconds: number } | undefined,
  memoryMb: number,
): { status: Schemas['RunStatus']; reason: string | null } {
  if (stopped?.kind === 'canceled') return { status: 'canceled', reason: stopped.reason };
  if (stopped?.kind === 'timed_out') return { status: 'timed_out', reason: `Stopped after its time limit of ${stopped.timeoutSeconds} s` };
  if (container.oomKilled) return { status: 'failed', reason: `Killed: it used more than its memory limit of ${memoryMb} MB` };
  if (container.exitCode === 0) return { status: 'succeeded', reason: null };
  return { status: 'failed', reason: `Exited with code ${container.exitCode}` };
}

export interface RunEnvironmentInput {
  serverUrl: string;
  slug: string;
  runId: string;
  pipelineCode: string;
  token: string;
  configuration: Record<string, unknown>;
  parameters: Record<string, unknown>;
  database: { host: string; port: number; dbName: string; username: string; password: string };
  /** The workspace's connections as `<CONNECTION_SLUG>_<FIELD_CODE>` variables; the platform's own names win a clash. */
  connections: Record<string, string>;
}

/** The container's environment: OpenHEXA's names, so existing code runs unchanged. */
export function runEnvironment(input: RunEnvironmentInput): string[] {
  const { database } = input;
  const url = `postgresql://${encodeURIComponent(database.username)}:${encodeURIComponent(database.password)}@${database.host}:${database.port}/${encodeURIComponent(database.dbName)}`;
  const variables: Record<string, string> = {
    ...input.connections,
    HEXA_SERVER_URL: input.serverUrl,
    HEXA_WORKSPACE: input.slug,
    HEXA_RUN_ID: input.runId,
    HEXA_PIPELINE_CODE: input.pipelineCode,
    HEXA_TOKEN: input.token,
    HEXA_CONFIG: JSON.stringify(input.configuration),
    HEXA_PARAMETERS: JSON.stringify(input.parameters),
    WORKSPACE_DATABASE_DB_NAME: database.dbName,
    WORKSPACE_DATABASE_HOST: database.host,
    WORKSPACE_DATABASE_PORT: String(database.port),
    WORKSPACE_DATABASE_USERNAME: database.username,
    WORKSPACE_DATABASE_PASSWORD: database.password,
    WORKSPACE_DATABASE_URL: url,
  };
  return Object.entries(variables).map(([name, value]) => `${name}=${value}`);
}

/**
 * The values to mask in a run's output: those of the named variables in its
 * environment (`NAME=value` entries), empty ones left out.
 *
 * @example
 * maskedValues(['HEXA_TOKEN=hexa_run_x', 'A=1'], ['HEXA_TOKEN']) // ['hexa_run_x']
 */
export function maskedValues(environment: string[], names: string[]): string[] {
  const wanted = new Set(names);
  const values: string[] = [];
  for (const entry of environment) {
    const split = entry.indexOf('=');
    if (split > 0 && wanted.has(entry.slice(0, split)) && split < entry.length - 1) values.push(entry.slice(split + 1));
  }
  return values;
}
