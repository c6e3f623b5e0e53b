/**
 * What a workflow learns from a Stripe webhook: a small, stable summary of the event (never the raw
 * payload, which is large and changes shape between Stripe API versions). Built by the webhook route
 * (src/orchestration/stripe-events.ts); carried as the argument of the `stripeEvent` signal.
 * Pure types: imported by workflow code.
 */

export interface StripeInvoiceSummary {
  id: string;
  status: string | null;
  billingReason: string | null;
  currency: string;
  /** Cents (Stripe's minor unit for USD), as decimal strings. */
  totalCents: string;
  amountDueCents: string;
  amountPaidCents: string;
  attemptCount: number;
  periodStart: string | null;
  periodEnd: string | null;
}

export interface StripeSubscriptionSummary {
  id: string;
  status: string;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  /** The subscription's items: which of our prices each carries (mapped to components by price id). */
  items: { id: string; priceId: string | null; quantity: number }[];
}

export interface StripeEventSummary {
  /** `evt_…`: the dedupe key in every handler. */
  id: string;
  type: string;
  createdAt: string;
  checkoutSession?: { id: string; stripeSubscriptionId: string | null; stripeCustomerId: string | null };
  subscription?: StripeSubscriptionSummary;
  invoice?: StripeInvoiceSummary;
}

/** Event types that reach a subscription workflow; anything else is stored and acknowledged only. */
export const ROUTED_STRIPE_EVENT_TYPES = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_failed',
] as const;
