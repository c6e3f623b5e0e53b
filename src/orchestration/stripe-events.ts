/**
 * Where a verified Stripe event goes. Events about a subscription (Checkout completion, subscription
 * changes, its invoices) signal that subscription's workflow, started from Postgres if it is not
 * running; events about an invoice already carried by a period close go straight to that close.
 * Anything else is stored and acknowledged only.
 */
import type Stripe from 'stripe';
import type { Queryable } from '../shared/db.js';
import { closeOfStripeInvoice } from '../billing/invoice-store.js';
import { invoiceSubscriptionId, summarizeEvent } from '../billing/stripe-summaries.js';
import { subscriptionByStripeId } from '../subscriptions/subscription-store.js';
import { ROUTED_STRIPE_EVENT_TYPES } from '../workflows/stripe-event.js';
import { invoiceEventSignal, stripeEventSignal } from '../workflows/subscription-messages.js';
import { workflowIds } from '../workflows/ids.js';
import { signalSubscription, type SubscriptionWorkflows } from './subscriptions.js';

const ROUTED = new Set<string>(ROUTED_STRIPE_EVENT_TYPES);

async function ourSubscriptionId(sql: Queryable, event: Stripe.Event): Promise<string | null> {
  const object = event.data.object as { object?: string; metadata?: Record<string, string> | null; id?: string };
  const fromMetadata = object.metadata?.subscription_id;
  if (object.object === 'checkout.session') {
    const session = object as Stripe.Checkout.Session;
    return fromMetadata ?? session.client_reference_id ?? null;
  }
  if (object.object === 'subscription') {
    return fromMetadata ?? (await subscriptionByStripeId(sql, object.id!))?.id ?? null;
  }
  if (object.object === 'invoice') {
    const invoice = object as Stripe.Invoice;
    const meta = invoice.parent?.subscription_details?.metadata?.subscription_id;
    if (meta) return meta;
    const stripeSubscriptionId = invoiceSubscriptionId(invoice);
    return stripeSubscriptionId ? ((await subscriptionByStripeId(sql, stripeSubscriptionId))?.id ?? null) : null;
  }
  return null;
}

/** Signals the workflow the event is for; returns its workflow id, or null when no workflow needs it. */
export async function routeStripeEvent(w: SubscriptionWorkflows, sql: Queryable, event: Stripe.Event): Promise<string | null> {
  if (!ROUTED.has(event.type)) return null;
  const summary = summarizeEvent(event);
  if (summary.invoice) {
    const close = await closeOfStripeInvoice(sql, summary.invoice.id);
    if (close) {
      try {
        await w.client.workflow.getHandle(close).signal(invoiceEventSignal, summary);
        return close;
      } catch (err) {
        // The close has finished (paid, or failed loudly); the event stays recorded in stripe_events.
        if ((err as { name?: string }).name === 'WorkflowNotFoundError') return null;
        throw err;
      }
    }
  }
  const subscriptionId = await ourSubscriptionId(sql, event);
  if (!subscriptionId) return null;
  // Stripe's renewal invoice belongs to the close of the period it covers: straight there when that
  // close is running (the common case), else through the subscription, which holds it until it is.
  if (summary.type === 'invoice.created' && summary.invoice?.periodStart) {
    const closeId = workflowIds.period(subscriptionId, summary.invoice.periodStart);
    try {
      await w.client.workflow.getHandle(closeId).signal(invoiceEventSignal, summary);
      return closeId;
    } catch (err) {
      if ((err as { name?: string }).name !== 'WorkflowNotFoundError') throw err;
    }
  }
  return signalSubscription(w, sql, subscriptionId, stripeEventSignal, [summary]);
}
