/**
 * Activity option sets, named once. Every proxyActivities call uses one of these, so timeouts and
 * retry policies are never library defaults and never differ by accident between workflows.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { FINAL_ERROR_CODES } from '../shared/error-codes.js';

/** Business failures are final: these codes are never retried (derived from src/shared/error-codes.ts). */
export const NON_RETRYABLE_CODES: string[] = [...FINAL_ERROR_CODES];

/** One Postgres transaction: seconds at most, so a crashed worker's attempt is retried soon. */
export const DB_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_CODES },
};

/**
 * One Stripe call. Retries reuse the idempotency key computed in the workflow; the schedule-to-close
 * bound keeps every retry inside Stripe's 24 h idempotency window.
 */
export const STRIPE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '6 hours',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: NON_RETRYABLE_CODES },
};
