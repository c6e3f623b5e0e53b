/**
 * The state a subscription workflow starts from, built from the subscription as Postgres holds it
 * (first run, or a restart from the row). Part of the workflow's public surface, like its messages:
 * orchestration builds the start input with it and never touches the state's insides.
 */
import type { SubscriptionState } from './subscription-state.js';

/** What the workflow needs of the stored subscription (its current period under the api's names). */
export type StoredSubscription = Pick<SubscriptionState, 'status' | 'planVersionId' | 'seats' | 'addOns' | 'cancelAtPeriodEnd' | 'stripeSubscriptionId'> & {
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
};

export function initialWorkflowState(stored: StoredSubscription, currency: string): SubscriptionState {
  return {
    status: stored.status,
    currency,
    planVersionId: stored.planVersionId,
    seats: stored.seats,
    addOns: stored.addOns,
    periodStart: stored.currentPeriodStart,
    periodEnd: stored.currentPeriodEnd,
    cancelAtPeriodEnd: stored.cancelAtPeriodEnd,
    checkoutCompleted: stored.status !== 'incomplete',
    checkout: null,
    stripeSubscriptionId: stored.stripeSubscriptionId,
    stripeSubscription: null,
    seen: [],
    inbox: [],
    closes: [],
    pendingInvoiceEvents: [],
    planChanges: [],
  };
}
