/** Errors thrown by the client. API problems keep the service's code; transport failures are separate. */
import type { BillingErrorCode } from './error-codes.js';

export interface FieldError {
  path: string;
  message: string;
}

/** The service answered with a problem (4xx/5xx). */
export class BillingApiError extends Error {
  override readonly name = 'BillingApiError';
  constructor(
    readonly status: number,
    readonly code: BillingErrorCode | (string & {}),
    message: string,
    readonly errors: FieldError[] = [],
    readonly requestId: string | undefined = undefined,
    readonly body: unknown = undefined,
  ) {
    super(message);
  }

  /** Worth retrying with the same idempotency keys: the service or a dependency was unavailable. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** The service could not be reached (network error or timeout). Always retryable. */
export class BillingNetworkError extends Error {
  override readonly name = 'BillingNetworkError';
  readonly retryable = true;
}
