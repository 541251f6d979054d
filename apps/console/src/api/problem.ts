import type { Schemas } from './client';

export type Problem = Schemas['Problem'];

/** What a person reads for each stable error code; the API's own `detail` replaces it where it says more (`preferDetail`). */
const messages: Partial<Record<Schemas['ErrorCode'], string>> = {
  invalid_credentials: 'Wrong e-mail or password.',
  unauthenticated: 'Your session has ended. Please sign in again.',
  invalid_token: 'Your session has ended. Please sign in again.',
  token_expired: 'Your session has ended. Please sign in again.',
  forbidden: 'You do not have permission to do this.',
  workspace_not_found: 'This workspace does not exist, or you are not one of its members.',
  not_found: 'This no longer exists.',
  too_many_requests: 'Too many attempts. Please wait a moment and try again.',
  service_unavailable: 'Part of Hexa is unavailable right now. Please try again in a moment.',
  bad_gateway: 'Part of Hexa answered unexpectedly. Please try again in a moment.',
  internal_error: 'Something went wrong on our side. Please try again.',
  body_too_large: 'This is too large to send.',
  file_exists: 'Something of that name is already there. Choose another name.',
};

/**
 * Codes whose words above are only a fallback: the service says which thing
 * is missing or refused ("No such run in this workspace.", "Only Editors,
 * Admins and whoever launched a run may cancel it."), which helps more than a
 * generic sentence. Not `workspace_not_found`: its sameness is the point (it
 * must not tell an outsider whether a workspace exists).
 */
const preferDetail: ReadonlySet<Schemas['ErrorCode']> = new Set(['not_found', 'forbidden', 'file_exists']);

/**
 * A detail written for people: one sentence (a capital first, a full stop
 * last), short, and naming no permission key, path or option
 * (`does not grant members:manage`, `/auth/login`, `send overwrite: true`) —
 * those are for API clients and read as jargon on a page.
 *
 * @example
 * isSentenceForPeople('No such run in this workspace.') // true
 * isSentenceForPeople('Your role (VIEWER) does not grant members:manage.') // false
 */
export function isSentenceForPeople(detail: string | undefined): detail is string {
  return detail !== undefined && detail.length <= 200 && /^[A-Z][^\n]*[.!?]$/.test(detail) && !/\w:\s*\w|\/|[{}<>_]/.test(detail);
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && typeof (value as Problem).code === 'string' && typeof (value as Problem).status === 'number';
}

/**
 * Turns whatever a failed call gave (a problem+json body, a network error)
 * into one sentence for a person. Validation errors name their fields.
 *
 * @example
 * problemMessage({ code: 'invalid_credentials', status: 401, title: 'Unauthorized', type: 'about:blank' })
 * // 'Wrong e-mail or password.'
 */
export function problemMessage(error: unknown): string {
  if (!isProblem(error)) {
    if (error instanceof TypeError) return 'Hexa cannot be reached. Check your connection and try again.';
    return 'Something went wrong. Please try again.';
  }
  if (error.code === 'invalid_input' && error.errors?.length) {
    return `Please check: ${error.errors.map((entry) => `${entry.field.replace(/^\/(body\/)?/, '') || 'input'} ${entry.message}`).join('; ')}.`;
  }
  if (preferDetail.has(error.code) && isSentenceForPeople(error.detail)) return error.detail;
  const known = messages[error.code];
  if (known) return known;
  return error.detail ?? error.title;
}

/** Thrown by stores so views can show the API's problem in words. */
export class ApiError extends Error {
  constructor(readonly problem: unknown) {
    super(problemMessage(problem));
    this.name = 'ApiError';
  }

  get code(): string | undefined {
    return isProblem(this.problem) ? this.problem.code : undefined;
  }
}
