/**
 * The state a subscription workflow starts from, built from the subscription as Postgres holds it
 * (first run, or a restart from the row). Part of the workflow's public surface, like its messages:
 * orchestration builds the start input with it and never touches the state's insides.
 */
import type { SubscriptionStatus } from './subscription-messages.js';
import type { SubscriptionState } from './subscription-state.js';

/** What the workflow needs of the stored subscription. */
export interface StoredSubscription {
  status: SubscriptionStatus;
  planVersionId: string;
  seats: number;
  addOns: string[];
  periodStart: string | null;
  periodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  stripeSubscriptionId: string | null;
}

export function initialWorkflowState(stored: StoredSubscription, currency: string): SubscriptionState {
  return {
    status: stored.status,
    currency,
    planVersionId: stored.planVersionId,
    seats: stored.seats,
    addOns: stored.addOns,
    periodStart: stored.periodStart,
    periodEnd: stored.periodEnd,
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
