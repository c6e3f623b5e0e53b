/**
 * The parameters of our Stripe requests, read from our records: a Stripe activity builds its request
 * here, then makes its one call (src/activities/stripe-billing.ts).
 */
import type Stripe from 'stripe';
import { getPlanVersion } from '../catalog/plan-versions.js';
import { stripeCustomerOf } from '../platform/billing-customer-store.js';
import { getTeam } from '../platform/teams.js';
import type { Queryable } from '../shared/db.js';
import { AppError, notFound } from '../shared/errors.js';
import { fixedComponents, type ComponentKey } from '../subscriptions/components.js';
import { getSubscription } from '../subscriptions/subscription-store.js';
import type { CollectionMethod } from '../workflows/subscription-messages.js';
import type { Interval } from '../workflows/periods.js';
import { loadInvoice } from './invoice-store.js';
import { stripePriceParams } from './stripe-prices.js';
import type { RequestedItem } from './stripe-subscription-start.js';

/** What every request about a subscription's items names: whose, at which customer, with which prices and seats. */
interface SubscriptionItemsRequest {
  subscriptionId: string;
  teamId: string;
  stripeCustomerId: string;
  prices: Record<string, string>;
  seats: number;
}

export interface CheckoutSessionRequest extends SubscriptionItemsRequest {
  successUrl: string;
  cancelUrl: string;
}

export interface StripeSubscriptionRequest extends SubscriptionItemsRequest {
  addOns: string[];
  collection: CollectionMethod;
  daysUntilDue: number | null;
}

export async function customerParams(sql: Queryable, teamId: string): Promise<Stripe.CustomerCreateParams> {
  const team = await getTeam(sql, teamId);
  return { name: team.name, metadata: { team_id: teamId, external_ref: team.externalRef ?? '' } };
}

export async function priceParams(sql: Queryable, planVersionId: string, component: ComponentKey): Promise<Stripe.PriceCreateParams> {
  return stripePriceParams(await getPlanVersion(sql, planVersionId), component);
}

export async function checkoutSessionParams(sql: Queryable, input: CheckoutSessionRequest): Promise<Stripe.Checkout.SessionCreateParams> {
  const sub = await getSubscription(sql, input.subscriptionId);
  const plan = await getPlanVersion(sql, sub.plan_version_id);
  const lineItems = fixedComponents(plan, input.seats, sub.add_ons).map((c) => ({ price: input.prices[c.key]!, quantity: c.stripeQuantity }));
  const metadata = { subscription_id: input.subscriptionId, team_id: input.teamId, plan_version_id: plan.id };
  return {
    mode: 'subscription',
    customer: input.stripeCustomerId,
    client_reference_id: input.subscriptionId,
    line_items: lineItems,
    success_url: input.successUrl,
    cancel_url: input.cancelUrl,
    metadata,
    subscription_data: { metadata },
  };
}

/**
 * The Stripe subscription of an operator's start: by invoice with net terms (send_invoice), or
 * charged to the customer's saved default payment method, refused by Stripe when that fails
 * (error_if_incomplete) rather than left incomplete. Also the items requested, to find them in Stripe's answer.
 */
export async function subscriptionRequest(
  sql: Queryable,
  input: StripeSubscriptionRequest,
): Promise<{ params: Stripe.SubscriptionCreateParams; requested: RequestedItem[]; interval: Interval }> {
  const sub = await getSubscription(sql, input.subscriptionId);
  const plan = await getPlanVersion(sql, sub.plan_version_id);
  const requested = fixedComponents(plan, input.seats, input.addOns).map((c) => {
    const priceId = input.prices[c.key];
    if (!priceId) throw new AppError('conflict', `No Stripe price for component ${c.key} of plan version ${plan.id}`);
    return { component: c.key, priceId, quantity: c.stripeQuantity };
  });
  const metadata = { subscription_id: input.subscriptionId, team_id: input.teamId, plan_version_id: plan.id };
  const params: Stripe.SubscriptionCreateParams = {
    customer: input.stripeCustomerId,
    items: requested.map((r) => ({ price: r.priceId, quantity: r.quantity })),
    collection_method: input.collection,
    ...(input.collection === 'send_invoice' ? { days_until_due: input.daysUntilDue ?? 0 } : { payment_behavior: 'error_if_incomplete' as const }),
    metadata,
  };
  return { params, requested, interval: plan.interval };
}

/** The final invoice of a subscription: ours, sweeping in Stripe's pending prorations. */
export async function finalInvoiceParams(sql: Queryable, invoiceId: string): Promise<Stripe.InvoiceCreateParams> {
  const { row } = await loadInvoice(sql, invoiceId);
  const customer = await stripeCustomerOf(sql, row.team_id);
  if (!customer) throw notFound(`Stripe customer of team ${row.team_id}`);
  const sub = await getSubscription(sql, row.subscription_id);
  return {
    customer,
    // Collected as the subscription is: by invoice with its net terms, or charged automatically.
    collection_method: sub.collection_method,
    ...(sub.collection_method === 'send_invoice' ? { days_until_due: sub.days_until_due ?? 0 } : {}),
    auto_advance: false,
    pending_invoice_items_behavior: 'include',
    metadata: { invoice_id: row.id, subscription_id: row.subscription_id },
  };
}
