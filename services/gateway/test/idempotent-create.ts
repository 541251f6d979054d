import { watchIdempotentCommits } from '@hexa/testing';
import type { Stack } from './stack.js';

/**
 * Sends a creating `request` twice with one Idempotency-Key, as `token`:
 * the effect must commit with its answer (no key left unanswered at the
 * commit of `watched`), and the second call must replay that answer.
 */
export async function createdOnceWithItsAnswer(
  stack: Stack,
  token: string,
  watched: { schema: string; table: string },
  request: { method: 'POST'; url: string; payload?: Record<string, unknown> },
  key: string,
): Promise<{ statusCode: number; body: Record<string, unknown> }> {
  const watch = await watchIdempotentCommits(watched.schema, watched.table);
  try {
    const first = await stack.call({ ...request, token, headers: { 'idempotency-key': key } });
    expect([201, 202]).toContain(first.statusCode);
    const atCommit = await watch.unansweredAtCommit();
    expect(atCommit.length).toBeGreaterThan(0);
    expect(new Set(atCommit)).toEqual(new Set([0]));

    const again = await stack.call({ ...request, token, headers: { 'idempotency-key': key } });
    expect(again.statusCode).toBe(first.statusCode);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(first.headers.location);
    return { statusCode: first.statusCode, body: first.json() };
  } finally {
    await watch.stop();
  }
}
