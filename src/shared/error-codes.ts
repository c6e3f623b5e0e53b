/**
 * The one error vocabulary of the service. The API's problem+json `code`, the SDK's typed errors and
 * the `type` of every business ApplicationFailure raised in activities and workflows come from here,
 * so a failure keeps its name from Postgres to the Temporal UI to the caller.
 *
 * Pure data: workflow code imports it, so no Node modules here.
 */
export const ERROR_STATUS = {
  // Client input
  validation_failed: 400,
  malformed_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // Authentication (who are you)
  token_missing: 401,
  token_malformed: 401,
  token_algorithm_not_allowed: 401,
  token_signature_invalid: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_lifetime_too_long: 401,
  token_claims_invalid: 401,
  app_unknown: 401,
  admin_unauthorized: 401,
  // Authorisation (what may you do)
  scope_missing: 403,
  team_not_connected: 403,
  team_mismatch: 403,
  // State of the world
  not_found: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  conflict: 409,
  insufficient_funds: 422,
  limit_exceeded: 422,
  period_closed: 422,
  invoice_total_mismatch: 500,
  // Stripe outcomes that retrying cannot fix
  payment_failed: 402,
  stripe_request_invalid: 502,
  // Signature of Stripe webhooks
  webhook_signature_invalid: 400,
  // Ours
  internal_error: 500,
  dependency_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_TITLE: Record<ErrorCode, string> = {
  validation_failed: 'The request is not valid',
  malformed_json: 'The body is not valid JSON',
  payload_too_large: 'The body is larger than allowed',
  unsupported_media_type: 'The body must be application/json',
  token_missing: 'A bearer token is required',
  token_malformed: 'The bearer token is not a well-formed JWT',
  token_algorithm_not_allowed: 'Only HS256 tokens are accepted',
  token_signature_invalid: 'The token signature does not match any active secret of the app',
  token_expired: 'The token has expired',
  token_not_yet_valid: 'The token is not valid yet',
  token_lifetime_too_long: 'The token lives longer than allowed',
  token_claims_invalid: 'The token claims are missing or malformed',
  app_unknown: 'The app is not registered',
  admin_unauthorized: 'An admin credential is required',
  scope_missing: 'The token lacks a required scope',
  team_not_connected: 'The team is not connected to this app',
  team_mismatch: 'The token is for another team',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  idempotency_conflict: 'The idempotency key was already used with a different payload',
  conflict: 'The request conflicts with the current state',
  insufficient_funds: 'The balance is not sufficient',
  limit_exceeded: 'A limit was exceeded',
  period_closed: 'The billing period is closed',
  invoice_total_mismatch: 'The Stripe invoice total differs from the internal invoice',
  payment_failed: 'The payment failed',
  stripe_request_invalid: 'Stripe rejected the request as invalid',
  webhook_signature_invalid: 'The Stripe signature is not valid',
  internal_error: 'Internal error',
  dependency_unavailable: 'A dependency is unavailable',
};

/** Codes of failures that may pass when tried again (a restart, a dependency back up). */
export const TRANSIENT_ERROR_CODES: readonly ErrorCode[] = ['internal_error', 'dependency_unavailable'];

/**
 * Every other code names an outcome that retrying cannot change (bad input, a conflict, a declined
 * card, a mismatch to look into): workflows never retry an activity that failed with one of these.
 */
export const FINAL_ERROR_CODES: readonly ErrorCode[] = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => !TRANSIENT_ERROR_CODES.includes(code));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}
