/** The workflow bundle's entry: every workflow type the worker runs, by name. */
export { provisionTeam } from './provision-team.js';
export { subscriptionLifecycle } from './subscription-lifecycle.js';
export { closeBillingPeriod } from './close-billing-period.js';
