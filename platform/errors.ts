// The error catalogue: every error a client of any TPS HTTP endpoint can see, with a stable code,
// its HTTP status and a message. docs/errors.md lists the same table; a test keeps them equal.

export const errorCatalogue = {
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  INVALID_REQUEST: { status: 400, message: 'The request does not match the schema.' },
  UNKNOWN_JOB_TYPE: { status: 400, message: 'The job type is not in the job catalogue.' },
  INVALID_IDEMPOTENCY_KEY: { status: 400, message: 'The Idempotency-Key header must be 1-200 visible ASCII characters.' },
  MALFORMED_REQUEST: { status: 400, message: 'The request is not well-formed HTTP (request line, headers or URL encoding).' },
  UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required.' },
  FORBIDDEN_ORIGIN: { status: 403, message: 'The request came from a page of another origin; the console acts only for its own page.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  JOB_NOT_FOUND: { status: 404, message: 'No job with this id is known (job status is kept for up to one hour).' },
  BREAKER_NOT_FOUND: { status: 404, message: 'No circuit breaker has this name (see `tps breaker list`).' },
  DLQ_ENTRY_NOT_FOUND: { status: 404, message: 'No dead-letter entry has this id (it may have been replayed or purged).' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This route does not answer this method; the Allow header lists those it does.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request (headers and body) did not arrive within the server\'s time limit; the connection is closed.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than the limit.' },
  URL_TOO_LONG: { status: 414, message: 'A segment of the URL path is longer than the server accepts.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json.' },
  INVALID_PAYLOAD: { status: 422, message: 'The job payload is not valid for its type.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'This Idempotency-Key was first used with a different request body; a new job needs a new key.' },
  CONFIRMATION_REQUIRED: { status: 428, message: 'This operation removes data and must be confirmed (confirm: true).' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the delay in Retry-After.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request line and headers are larger than the server accepts.' },
  INTERNAL: { status: 500, message: 'Internal error; the details are in the server log.' },
  FAULT_INJECTED: { status: 500, message: 'A chaos fault made this request fail (the status is the fault\'s, 500 by default).' },
  DOWNSTREAM_FAILED: { status: 502, message: 'A downstream service failed.' },
  QUEUE_FULL: { status: 503, message: 'The queue is full; retry after the delay in Retry-After.' },
  BROKER_UNAVAILABLE: { status: 503, message: 'The message broker is unavailable; retry after the delay in Retry-After.' },
  BROKER_STORAGE_FAILED: { status: 503, message: 'The message broker could not store the job: its store failed to write (a full disk, for one); retry after the delay in Retry-After.' },
  IDEMPOTENCY_STORE_FULL: { status: 503, message: 'The idempotency store is full and takes no new keys; retry after the delay in Retry-After.' },
  OVERLOADED: { status: 503, message: 'The service is at its concurrency limit and its wait queue is full.' },
  CIRCUIT_OPEN: { status: 503, message: 'The circuit breaker to the next service is open.' },
  NOT_READY: { status: 503, message: 'The service is not ready.' },
  ADMIN_API_UNAVAILABLE: { status: 503, message: 'The admin API does not answer; the console acts through it (start TPS Lab with ADMIN_API=true and an ADMIN_TOKEN).' },
  ALERTMANAGER_UNAVAILABLE: { status: 503, message: 'Alertmanager could not acknowledge the alert (it does not answer, or the alert is no longer firing).' },
  SHUTTING_DOWN: { status: 503, message: 'The service is shutting down; retry (another instance, or this one once restarted, will answer).' },
  DEADLINE_EXCEEDED: { status: 504, message: 'The request deadline passed before the work could be done.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error meant for an HTTP client: code, status and a message that is safe to send. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    options: { detail?: string; retryAfterSeconds?: number; cause?: unknown; status?: number } = {},
  ) {
    const entry = errorCatalogue[code];
    super(options.detail ? `${entry.message} ${options.detail}` : entry.message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    // Only an injected fault chooses its status; every other code has exactly one.
    this.status = code === 'FAULT_INJECTED' && options.status ? options.status : entry.status;
    this.detail = options.detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** An operation stopped by its deadline or its caller: `AbortSignal.timeout()` rejects with a
 * TimeoutError, `timers/promises` and undici with an AbortError, opossum with code ETIMEDOUT.
 * One predicate, so a hop, a breaker and a downstream call agree on what "timed out" means. */
export function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  return e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'ETIMEDOUT';
}
