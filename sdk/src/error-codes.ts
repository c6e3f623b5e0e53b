/**
 * The service's stable error codes. Mirrors src/shared/error-codes.ts of the service (a test keeps
 * the two lists equal), so callers can switch on `err.code` with type checking.
 */
export const ERROR_CODES = [
  'validation_failed',
  'malformed_json',
  'payload_too_large',
  'unsupported_media_type',
  'token_missing',
  'token_malformed',
  'token_algorithm_not_allowed',
  'token_signature_invalid',
  'token_expired',
  'token_not_yet_valid',
  'token_lifetime_too_long',
  'token_claims_invalid',
  'app_unknown',
  'admin_unauthorized',
  'scope_missing',
  'team_not_connected',
  'team_mismatch',
  'not_found',
  'method_not_allowed',
  'idempotency_conflict',
  'conflict',
  'insufficient_funds',
  'limit_exceeded',
  'period_closed',
  'invoice_total_mismatch',
  'payment_failed',
  'stripe_request_invalid',
  'webhook_signature_invalid',
  'internal_error',
  'dependency_unavailable',
] as const;

export type BillingErrorCode = (typeof ERROR_CODES)[number];
