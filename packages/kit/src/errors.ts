import type { ErrorCode } from '@hexa/contract';

interface CodeSpec { status: number; title: string }

/** The closed set of error codes (from the contract) with their status and title. */
export const errorCodes: Record<ErrorCode, CodeSpec> = {
  invalid_input: { status: 400, title: 'The request is not valid' },
  malformed_body: { status: 400, title: 'The request body cannot be read' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  body_too_large: { status: 413, title: 'The request body is too large' },
  uri_too_long: { status: 414, title: 'The request URI is too long' },
  request_headers_too_large: { status: 431, title: 'The request headers are too large' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_token: { status: 401, title: 'The token is not valid' },
  token_expired: { status: 401, title: 'The token has expired' },
  invalid_credentials: { status: 401, title: 'Wrong e-mail or password' },
  forbidden: { status: 403, title: 'You do not have the permission' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such operation' },
  workspace_not_found: { status: 404, title: 'Workspace not found' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  precondition_failed: { status: 412, title: 'The resource changed since you read it' },
  precondition_required: { status: 428, title: 'This change needs an If-Match header' },
  idempotency_key_in_flight: { status: 409, title: 'A request with this Idempotency-Key is still running' },
  idempotency_key_reused: { status: 422, title: 'This Idempotency-Key was used for another request' },
  email_taken: { status: 409, title: 'That e-mail address is already in use' },
  database_not_ready: { status: 409, title: "The workspace's database is not ready" },
  table_not_found: { status: 404, title: 'No such table' },
  password_rotation_in_progress: { status: 409, title: 'A password rotation is already in progress' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  invitation_not_found: { status: 404, title: 'No such invitation' },
  invitation_expired: { status: 409, title: 'The invitation has expired' },
  invitation_used: { status: 409, title: 'The invitation was already answered' },
  invitation_revoked: { status: 409, title: 'The invitation was revoked' },
  invitation_email_mismatch: { status: 403, title: 'The invitation is for another e-mail address' },
  invitation_pending: { status: 409, title: 'An invitation to this workspace is already pending for this person' },
  already_member: { status: 409, title: 'This person is already a member of the workspace' },
  last_admin: { status: 409, title: 'A workspace must keep at least one Admin' },
  own_role_change: { status: 403, title: 'Nobody changes their own role' },
  weak_password: { status: 400, title: 'The password is too weak' },
  service_unavailable: { status: 503, title: 'A dependency is unavailable' },
  bad_gateway: { status: 502, title: 'A service behind the gateway answered something unreadable' },
  internal_error: { status: 500, title: 'Internal error' },
  invalid_path: { status: 400, title: 'The file path is not valid' },
  file_not_found: { status: 404, title: 'No such file or folder' },
  file_exists: { status: 409, title: 'A file or folder already exists at this path' },
  is_a_folder: { status: 409, title: 'This path is a folder' },
  not_a_folder: { status: 409, title: 'A part of this path is a file, not a folder' },
  folder_not_empty: { status: 409, title: 'The folder is not empty' },
  file_too_large: { status: 413, title: 'The file is larger than the per-file limit' },
  quota_exceeded: { status: 409, title: "The workspace's storage quota would be exceeded" },
  range_not_satisfiable: { status: 416, title: 'The requested range is outside the file' },
  workspace_archived: { status: 409, title: 'The workspace is archived: read-only until restored' },
  connection_not_found: { status: 404, title: 'No such connection' },
  connection_exists: { status: 409, title: 'A connection with this slug already exists' },
  connection_variable_clash: { status: 409, title: "A field would have the same environment variable in runs as another connection's field" },
  connection_field_missing: { status: 400, title: 'A required field of the connection type is missing' },
  secret_required: { status: 400, title: 'This field must stay secret' },
  connection_test_unsupported: { status: 409, title: 'This connection type cannot be tested yet' },
  image_not_allowed: { status: 409, title: "The workspace's image is not allowed on this platform" },
};

export interface FieldError { field: string; message: string }

/** An error that becomes a problem+json answer. Thrown by services; rendered by the problem handler. */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extras: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? errorCodes[code].title);
    this.status = errorCodes[code].status;
  }
}

/**
 * The one error factory.
 *
 * @example
 * throw httpError('workspace_not_found');
 * throw httpError('invalid_input', 'Unknown country', { errors: [{ field: '/countries/0', message: 'unknown country XX' }] });
 */
export function httpError(code: ErrorCode, detail?: string, extras?: AppError['extras']): AppError {
  return new AppError(code, detail, extras);
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

export function toProblem(error: AppError, requestId?: string, instance?: string): Problem {
  return {
    type: `https://hexa.dev/problems/${error.code.replace(/_/g, '-')}`,
    title: errorCodes[error.code].title,
    status: error.status,
    code: error.code,
    ...(error.detail ? { detail: error.detail } : {}),
    ...(instance ? { instance } : {}),
    ...(requestId ? { requestId } : {}),
    ...(error.extras.errors ? { errors: error.extras.errors } : {}),
  };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value);
}
