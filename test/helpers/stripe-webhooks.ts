/**
 * Plays Stripe's side of webhooks in tests: builds event payloads in Stripe's current API shape and
 * signs them with the stripe package's own test-header helper, then POSTs them to /webhooks/stripe.
 */
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { TestApi } from './context.js';
import { TEST_WEBHOOK_SECRET } from './constants.js';

const stripe = new Stripe('sk_test_123');
const unix = (iso: string | number | Date) => Math.floor(new Date(iso).getTime() / 1000);

export function eventId(): string {
  return `evt_test_${randomBytes(10).toString('hex')}`;
}

export function signedWebhook(payload: string, secret = TEST_WEBHOOK_SECRET, timestamp?: number): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

export async function sendEvent(api: Pick<TestApi, 'request'>, event: Record<string, unknown>, opts: { secret?: string; timestamp?: number } = {}): Promise<Response> {
  const payload = JSON.stringify(event);
  return api.request('POST', '/webhooks/stripe', {
    rawBody: payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': signedWebhook(payload, opts.secret, opts.timestamp) },
  });
}

function envelope(type: string, object: Record<string, unknown>, id = eventId()) {
  return { id, object: 'event', api_version: '2026-10-28.endive', created: unix(Date.now()), livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, data: { object } };
}

export function checkoutCompleted(o: { sessionId: string; subscriptionId: string; stripeSubscriptionId: string; stripeCustomerId: string }) {
  return envelope('checkout.session.completed', {
    id: o.sessionId,
    object: 'checkout.session',
    mode: 'subscription',
    status: 'complete',
    client_reference_id: o.subscriptionId,
    customer: o.stripeCustomerId,
    subscription: o.stripeSubscriptionId,
    metadata: { subscription_id: o.subscriptionId },
  });
}

export function subscriptionEvent(
  type: 'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted',
  o: { stripeSubscriptionId: string; subscriptionId: string; items: { id: string; priceId: string; quantity: number }[]; periodStart: string; periodEnd: string; status?: string },
) {
  return envelope(type, {
    id: o.stripeSubscriptionId,
    object: 'subscription',
    status: o.status ?? 'active',
    cancel_at_period_end: false,
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

export function invoiceEvent(
  type: 'invoice.created' | 'invoice.finalized' | 'invoice.paid' | 'invoice.payment_failed',
  o: {
    stripeInvoiceId: string;
    stripeSubscriptionId: string;
    subscriptionId: string;
    periodStart: string;
    periodEnd: string;
    totalCents: bigint | number;
    billingReason?: string;
    attemptCount?: number;
  },
) {
  const total = Number(o.totalCents);
  const paid = type === 'invoice.paid';
  return envelope(type, {
    id: o.stripeInvoiceId,
    object: 'invoice',
    status: paid ? 'paid' : type === 'invoice.created' ? 'draft' : 'open',
    billing_reason: o.billingReason ?? 'subscription_cycle',
    currency: 'usd',
    total,
    amount_due: total,
    amount_paid: paid ? total : 0,
    attempt_count: o.attemptCount ?? (type === 'invoice.payment_failed' ? 1 : 0),
    period_start: unix(o.periodStart),
    period_end: unix(o.periodEnd),
    parent: { type: 'subscription_details', subscription_details: { subscription: o.stripeSubscriptionId, metadata: { subscription_id: o.subscriptionId } } },
  });
}
