/**
 * Two kinds of failure. Business outcomes (an AppError with a 4xx code, a Stripe card decline or
 * invalid request) become non-retryable ApplicationFailures typed with the shared error code;
 * everything else (network, Postgres restarts, Stripe 5xx and rate limits) is rethrown as is so
 * Temporal retries it.
 */
import { ApplicationFailure } from '@temporalio/common';
import Stripe from 'stripe';
import { AppError } from '../shared/errors.js';

export function asActivityFailure(err: unknown): unknown {
  if (err instanceof AppError && err.isBusiness) {
    return ApplicationFailure.nonRetryable(err.message, err.code, { fields: err.fields, details: err.details });
  }
  if (err instanceof Stripe.errors.StripeCardError) {
    return ApplicationFailure.nonRetryable(err.message, 'payment_failed', { declineCode: err.decline_code, stripeCode: err.code });
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeIdempotencyError) {
    return ApplicationFailure.nonRetryable(err.message, 'stripe_request_invalid', { stripeCode: err.code, param: err.param });
  }
  return err;
}

/** Wraps an activity so its business failures are typed and final. */
export function activity<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw asActivityFailure(err);
    }
  };
}
