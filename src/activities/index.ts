/** Every activity the worker registers, built from the worker's dependencies. */
import type { ActivityDeps } from './deps.js';
import { createPeriodCloseActivities } from './period-close.js';
import { createProvisionTeamActivities } from './provision-team.js';
import { createStripeBillingActivities } from './stripe-billing.js';
import { createSubscriptionActivities } from './subscriptions.js';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createProvisionTeamActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createPeriodCloseActivities(deps),
    ...createStripeBillingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
