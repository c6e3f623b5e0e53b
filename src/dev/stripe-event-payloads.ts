/**
 * Stripe webhook events as Stripe sends them (its current API shape), signed the way Stripe signs
 * them (the stripe package's own test-header helper with the endpoint's `whsec_…` secret), for the
 * local Stripe tools and the tests. Each builder lays our fields over `base`, an object stripe-mock
 * returned (or nothing), so the payload has Stripe's full shape where stripe-mock provides one.
 */
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { StripeItem, StripeLine } from './stripe-invoice-model.js';

type StripeObject = Record<string, unknown>;

const signer = new Stripe('sk_test_signing_only');
const unix = (iso: string | number | Date) => Math.floor(new Date(iso).getTime() / 1000);

export function eventId(): string {
  return `evt_local_${randomBytes(10).toString('hex')}`;
}

export function stripeSignature(payload: string, secret: string, timestamp?: number): string {
  return signer.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

/** POSTs a signed event to the api's webhook endpoint; returns its response. */
export async function postSignedEvent(apiUrl: string, secret: string, event: StripeObject): Promise<Response> {
  const payload = JSON.stringify(event);
  return fetch(new URL('/webhooks/stripe', apiUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(payload, secret) },
    body: payload,
  });
}

export function envelope(type: string, object: StripeObject, id = eventId()) {
  return { id, object: 'event', api_version: '2026-10-28.endive', created: unix(Date.now()), livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, data: { object } };
}

export function checkoutCompleted(o: { sessionId: string; subscriptionId: string; stripeSubscriptionId: string; stripeCustomerId: string; base?: StripeObject }) {
  return envelope('checkout.session.completed', {
    ...o.base,
    id: o.sessionId,
    object: 'checkout.session',
    mode: 'subscription',
    status: 'complete',
    payment_status: 'paid',
    client_reference_id: o.subscriptionId,
    customer: o.stripeCustomerId,
    subscription: o.stripeSubscriptionId,
    metadata: { subscription_id: o.subscriptionId },
  });
}

export function subscriptionEvent(
  type: 'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted',
  o: {
    stripeSubscriptionId: string;
    subscriptionId: string;
    items: { id: string; priceId: string; quantity: number }[];
    periodStart: string;
    periodEnd: string;
    status?: string;
    stripeCustomerId?: string;
    base?: StripeObject;
  },
) {
  return envelope(type, {
    ...o.base,
    id: o.stripeSubscriptionId,
    object: 'subscription',
    status: o.status ?? 'active',
    cancel_at_period_end: false,
    ...(o.stripeCustomerId ? { customer: o.stripeCustomerId } : {}),
    metadata: { subscription_id: o.subscriptionId },
    items: {
      object: 'list',
      data: o.items.map((i) => ({
        id: i.id,
        object: 'subscription_item',
        price: { id: i.priceId, object: 'price' },
        quantity: i.quantity,
        current_period_start: unix(o.periodStart),
        current_period_end: unix(o.periodEnd),
      })),
    },
  });
}

export type InvoiceEventType = 'invoice.created' | 'invoice.finalized' | 'invoice.paid' | 'invoice.payment_failed';

export function invoiceEvent(
  type: InvoiceEventType,
  o: {
    stripeInvoiceId: string;
    stripeSubscriptionId: string;
    subscriptionId: string;
    periodStart: string;
    periodEnd: string;
    totalCents: bigint | number;
    billingReason?: string;
    attemptCount?: number;
    stripeCustomerId?: string;
    lines?: StripeLine[];
    base?: StripeObject;
  },
) {
  const total = Number(o.totalCents);
  const paid = type === 'invoice.paid';
  return envelope(type, {
    ...o.base,
    id: o.stripeInvoiceId,
    object: 'invoice',
    status: paid ? 'paid' : type === 'invoice.created' ? 'draft' : 'open',
    billing_reason: o.billingReason ?? 'subscription_cycle',
    currency: 'usd',
    ...(o.stripeCustomerId ? { customer: o.stripeCustomerId } : {}),
    subtotal: total,
    total,
    amount_due: total,
    amount_paid: paid ? total : 0,
    amount_remaining: paid ? 0 : total,
    attempt_count: o.attemptCount ?? (type === 'invoice.payment_failed' ? 1 : 0),
    attempted: type === 'invoice.paid' || type === 'invoice.payment_failed',
    period_start: unix(o.periodStart),
    period_end: unix(o.periodEnd),
    metadata: {},
    parent: { type: 'subscription_details', subscription_details: { subscription: o.stripeSubscriptionId, metadata: { subscription_id: o.subscriptionId } } },
    ...(o.lines
      ? {
          lines: {
            object: 'list',
            has_more: false,
            total_count: o.lines.length,
            data: o.lines.map((l, i) => ({
              id: `il_local_${i + 1}`,
              object: 'line_item',
              amount: Number(l.amountCents),
              currency: 'usd',
              description: l.description,
              quantity: l.quantity,
              pricing: l.priceId ? { type: 'price_details', price_details: { price: l.priceId } } : null,
              parent: { type: l.kind === 'invoice_item' ? 'invoice_item_details' : 'subscription_item_details', proration: l.kind === 'proration' },
            })),
          },
        }
      : {}),
  });
}

/** Item ids for a subscription Stripe creates from checkout line items: stable, so they can be derived again. */
export function itemIds(stripeSubscriptionId: string, items: Omit<StripeItem, 'key'>[]): (Omit<StripeItem, 'key'> & { id: string })[] {
  return items.map((i, n) => ({ ...i, id: `${stripeSubscriptionId.replace(/^sub_/, 'si_')}_${n + 1}` }));
}
