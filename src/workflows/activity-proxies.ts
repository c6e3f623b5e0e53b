/**
 * The only place workflows proxy activities: Postgres activities with DB_ACTIVITY's timeouts, Stripe
 * activities with STRIPE_ACTIVITY's. Each proxy is typed with its kind alone, so a Stripe call through
 * the DB proxy (a 10 s timeout, no 24 h bound for its idempotency key) does not typecheck
 * (test/types/activity-kinds.ts); eslint keeps proxyActivities out of every other workflow file.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { DbActivities, StripeActivities } from '../activities/index.js';
import { DB_ACTIVITY, STRIPE_ACTIVITY } from './options.js';

export function dbActivities(): DbActivities {
  return proxyActivities<DbActivities>(DB_ACTIVITY);
}

export function stripeActivities(): StripeActivities {
  return proxyActivities<StripeActivities>(STRIPE_ACTIVITY);
}
