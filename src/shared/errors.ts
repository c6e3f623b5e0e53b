/**
 * Domain errors. Handlers and activities throw these; the API maps them to problem+json in one place
 * (src/api/problem.ts) and activities turn business ones into non-retryable ApplicationFailures with
 * the same code (src/activities/failures.ts).
 */
import { ERROR_STATUS, ERROR_TITLE, type ErrorCode } from './error-codes.js';

/** One bad field: `path` is a JSON pointer-like dotted path into the request (e.g. `events.3.timestamp`). */
export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: FieldError[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    opts: { fields?: FieldError[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message ?? ERROR_TITLE[code], { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.fields = opts.fields;
    this.details = opts.details;
  }

  /** Business outcomes are final: retrying the same request gives the same answer. */
  get isBusiness(): boolean {
    return this.status < 500;
  }
}

export function validationError(fields: FieldError[], message = 'The request is not valid'): AppError {
  return new AppError('validation_failed', message, { fields });
}

export function notFound(what: string): AppError {
  return new AppError('not_found', `${what} was not found`);
}

export function idempotencyConflict(key: string): AppError {
  return new AppError('idempotency_conflict', `Idempotency key "${key}" was already used with a different payload`);
}
