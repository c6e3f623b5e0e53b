/**
 * The state a subscription workflow carries from one run to the next (continue-as-new each period).
 * Kept small: ids, the current period, what Stripe told us about its items, and the closes of earlier
 * periods still waiting for their Stripe invoice or payment.
 */
import type { StripeEventSummary, StripeSubscriptionSummary } from './stripe-event.js';
import type {
  CancelRequest,
  ChangeAddOnsRequest,
  ChangeSeatsRequest,
  CheckoutResult,
  PeriodOutcome,
  ProrationResult,
  SubscriptionStatus,
} from './subscription-messages.js';

export type InboxMessage =
  | { kind: 'stripe'; event: StripeEventSummary }
  | { kind: 'seats'; request: ChangeSeatsRequest }
  | { kind: 'addOns'; request: ChangeAddOnsRequest }
  | { kind: 'cancel'; request: CancelRequest }
  | { kind: 'outcome'; outcome: PeriodOutcome };

/** A period close (child workflow) the subscription still routes Stripe invoice events to. */
export interface OpenClose {
  workflowId: string;
  periodStart: string;
  periodEnd: string;
  stripeInvoiceId: string | null;
}

export interface SubscriptionState {
  status: SubscriptionStatus;
  currency: string;
  planVersionId: string;
  seats: number;
  addOns: string[];
  periodStart: string | null;
  periodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  checkoutCompleted: boolean;
  checkout: CheckoutResult | null;
  stripeSubscriptionId: string | null;
  stripeSubscription: StripeSubscriptionSummary | null;
  /** Message ids already handled (Stripe event ids, request ids), bounded. */
  seen: string[];
  /** Messages received but not handled yet when the run continued as new. */
  inbox: InboxMessage[];
  closes: OpenClose[];
  /** Invoice events that arrived before the close of their period started. */
  pendingInvoiceEvents: StripeEventSummary[];
  /** Results of recent plan changes, so a retried update returns the first answer. */
  planChanges: ProrationResult[];
}
