import { AppError, isDatabaseUnavailable } from '@hexa/kit';
import { WorkspaceLoginRefused } from '../cluster/cluster-fns.js';

/**
 * The steps on the workspace cluster, in order. Each is recorded when done,
 * so a retry resumes after the last one; each also converges on its own, so
 * one that ran but was not recorded (the worker died in between) runs again
 * harmlessly.
 */
export const provisioningSteps = ['roles', 'database', 'grants', 'logins'] as const;
export type ProvisioningStep = (typeof provisioningSteps)[number];

export interface Failure {
  /** What the workspace's status shows: never a password, never a statement. */
  reason: string;
  /** False when retrying cannot help: it fails at once, and an Admin retries once the cause is fixed. */
  retryable: boolean;
}

/** SQLSTATEs that retrying cannot fix: privileges the admin login lacks, a name taken by something else. */
const permanentCodes = new Set(['42501', '42939', '22023']);
const reasonMaxLength = 500;

/**
 * Why an operation on the workspace cluster failed, in words for the
 * workspace's status, and whether a retry may help. A dependency that is down
 * (connection refused, timeout, too many connections) is retried with backoff.
 *
 * @example
 * describeFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' }))
 * // { reason: 'The workspace database cluster cannot be reached (ECONNREFUSED)', retryable: true }
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof AppError) return { reason: error.message.slice(0, reasonMaxLength), retryable: error.status >= 500 };
  // Retried: the retry sets the same password again before signing in (a replica or pooler may have lagged).
  if (error instanceof WorkspaceLoginRefused) return { reason: error.message, retryable: true };
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (isDatabaseUnavailable(error)) {
    return { reason: `The workspace database cluster cannot be reached${typeof code === 'string' ? ` (${code})` : ''}`, retryable: true };
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === '28P01' || code === '28000') return { reason: `The workspace database cluster refused the platform's admin login (${code})`, retryable: true };
    if (code.startsWith('53')) return { reason: `The workspace database cluster is out of resources (${code}: ${String(message)})`.slice(0, reasonMaxLength), retryable: true };
    // PostgreSQL's message names objects and privileges, never a statement's text or a password.
    return { reason: `The workspace database cluster refused a step (${code}: ${String(message)})`.slice(0, reasonMaxLength), retryable: !permanentCodes.has(code) };
  }
  if (typeof message === 'string' && /no answer within|timeout/i.test(message)) return { reason: 'The workspace database cluster did not answer in time', retryable: true };
  // Anything else (a bug, a secret that does not decrypt): its text may say more than a status should.
  return { reason: 'Provisioning failed unexpectedly; the worker log has the details', retryable: true };
}
