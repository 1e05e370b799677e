/**
 * The one error type. Every refusal the API gives is an AppError with a stable snake_case code from
 * ERROR_CODES; the error handler turns it into `{"Error": code, "Message": message}`. Anything that is
 * not an AppError becomes a 500 carrying the request id and nothing else.
 */
export const ERROR_CODES = {
  invalid_request: 400,
  invalid_json: 400,
  body_too_large: 400,
  unsupported_media_type: 400,
  invalid_cursor: 400,
  invalid_since: 400,
  invalid_limit: 400,
  invalid_event_type: 400,
  invalid_format: 400,
  invalid_cidr: 400,
  unauthorized: 401,
  unauthenticated: 401,
  invalid_credentials: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  uri_too_long: 414,
  rate_limited: 429,
  headers_too_large: 431,
  database_unavailable: 503,
  cursor_from_newer_release: 503,
  rate_limiter_unavailable: 503,
  server_busy: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra response headers (WWW-Authenticate, Retry-After). */
  readonly headers: Record<string, string>;
  /** For the operator's log only (e.g. the driver's error code); never in a response. */
  readonly driverCode: string | null;

  constructor(
    code: ErrorCode,
    message: string,
    headers: Record<string, string> = {},
    options: { cause?: unknown; driverCode?: string | null } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.headers = headers;
    this.driverCode = options.driverCode ?? null;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
