/**
 * Stripe objects → the small summaries workflows carry (src/workflows/stripe-event.ts). Reads both
 * the current API shape (periods on subscription items, invoice.parent.subscription_details) and the
 * older one (periods on the subscription, invoice.subscription), since a webhook endpoint's API
 * version may lag the SDK's.
 */
import type Stripe from 'stripe';
import type { StripeEventSummary, StripeInvoiceSummary, StripeSubscriptionSummary } from '../workflows/stripe-event.js';

const isoFromUnix = (s: number | null | undefined): string | null => (typeof s === 'number' ? new Date(s * 1000).toISOString() : null);
const idOf = (v: string | { id: string } | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);

type Loose<T> = T & Record<string, unknown>;

export function summarizeSubscription(sub: Stripe.Subscription): StripeSubscriptionSummary {
  const legacy = sub as Loose<Stripe.Subscription>;
  const items = sub.items?.data ?? [];
  const starts = items.map((i) => i.current_period_start).filter((v): v is number => typeof v === 'number');
  const ends = items.map((i) => i.current_period_end).filter((v): v is number => typeof v === 'number');
  return {
    id: sub.id,
    status: sub.status,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    currentPeriodStart: isoFromUnix(starts.length ? Math.max(...starts) : (legacy.current_period_start as number | undefined)),
    currentPeriodEnd: isoFromUnix(ends.length ? Math.min(...ends) : (legacy.current_period_end as number | undefined)),
    items: items.map((i) => ({ id: i.id, priceId: idOf(i.price), quantity: i.quantity ?? 1 })),
  };
}

export function invoiceSubscriptionId(invoice: Stripe.Invoice): string | null {
  const legacy = invoice as Loose<Stripe.Invoice>;
  return idOf(invoice.parent?.subscription_details?.subscription ?? (legacy.subscription as string | { id: string } | null | undefined));
}

export function summarizeInvoice(invoice: Stripe.Invoice): StripeInvoiceSummary {
  return {
    id: invoice.id!,
    status: invoice.status,
    billingReason: invoice.billing_reason,
    currency: invoice.currency,
    totalCents: String(invoice.total),
    amountDueCents: String(invoice.amount_due),
    amountPaidCents: String(invoice.amount_paid),
    attemptCount: invoice.attempt_count,
    periodStart: isoFromUnix(invoice.period_start),
    periodEnd: isoFromUnix(invoice.period_end),
  };
}

export function summarizeEvent(event: Stripe.Event): StripeEventSummary {
  const base: StripeEventSummary = { id: event.id, type: event.type, createdAt: new Date(event.created * 1000).toISOString() };
  const object = event.data.object as { object?: string };
  if (object.object === 'checkout.session') {
    const s = object as Stripe.Checkout.Session;
    return { ...base, checkoutSession: { id: s.id, stripeSubscriptionId: idOf(s.subscription), stripeCustomerId: idOf(s.customer) } };
  }
  if (object.object === 'subscription') return { ...base, subscription: summarizeSubscription(object as Stripe.Subscription) };
  if (object.object === 'invoice') return { ...base, invoice: summarizeInvoice(object as Stripe.Invoice) };
  return base;
}
