/**
 * Every activity the worker registers, built from the worker's dependencies, in two kinds: Postgres
 * activities (one transaction each) and Stripe activities (one Stripe call each). Workflows proxy
 * each kind with its own timeouts (src/workflows/activity-proxies.ts), so a Stripe call can never be
 * proxied with a database's timeouts: it is not on the DB proxy's type.
 */
import type { DbActivityDeps, StripeActivityDeps } from './deps.js';
import { createPeriodCloseActivities } from './period-close.js';
import { createProvisionTeamActivities } from './provision-team.js';
import { createStripeBillingActivities } from './stripe-billing.js';
import { createSubscriptionActivities } from './subscriptions.js';

export function createDbActivities(deps: DbActivityDeps) {
  return {
    ...createProvisionTeamActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createPeriodCloseActivities(deps),
  };
}

export function createStripeActivities(deps: StripeActivityDeps) {
  return createStripeBillingActivities(deps);
}

export function createActivities(deps: DbActivityDeps & StripeActivityDeps) {
  return { ...createDbActivities(deps), ...createStripeActivities(deps) };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
export type StripeActivities = ReturnType<typeof createStripeActivities>;
export type Activities = DbActivities & StripeActivities;
