/**
 * Stripe's side of a period's invoice, rebuilt from what we recorded of our own requests to Stripe:
 * stripe-mock keeps no state, so the local Stripe tools cannot ask it. The prices are the parameters
 * we created them with (stripePriceParams of the plan version, by the price ids in stripe_prices);
 * the subscription's items are the components we sent at checkout and with each update
 * (subscription_changes, at their proration dates); the invoice items are the lines we pushed
 * (invoice_lines with a Stripe item id). Stripe's arithmetic on them is stripe-invoice-model.ts.
 */
import { getSubscription, rolledPast, shapeChanges } from '../subscriptions/subscription-store.js';
import { pushedLines } from '../billing/invoice-store.js';
import { stripePricesOfPlans } from '../billing/stripe-price-store.js';
import { fixedComponents } from '../subscriptions/components.js';
import type { Queryable } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { stripePriceParams } from '../billing/stripe-prices.js';
import { planLoader, reconstructChanges } from '../billing/rate-period.js';
import type { SubscriptionShape } from '../billing/period-lines.js';
import { priceFromParams, type StripeInvoiceInput, type StripeItem, type StripePriceDef } from './stripe-invoice-model.js';

/** Later than any change: the upper bound when every change from a period on is wanted. */
const END_OF_TIME = '9999-12-31T00:00:00.000Z';

export interface InvoiceRecord {
  id: string;
  subscription_id: string;
  period_start: Date;
  period_end: Date;
  status: string;
  total_cents: bigint;
  stripe_invoice_id: string | null;
}

/** The Stripe items (one per component, keyed by it) and prices of subscriptions of these shapes. */
async function itemsOf(db: Queryable, shapes: SubscriptionShape[]) {
  const planIds = [...new Set(shapes.map((s) => s.plan.id))];
  const priceId = await stripePricesOfPlans(db, planIds);
  const prices = new Map<string, StripePriceDef>();
  const items = (shape: SubscriptionShape): StripeItem[] =>
    fixedComponents(shape.plan, shape.seats, shape.addOns).map((c) => {
      const id = priceId.get(`${shape.plan.id}|${c.key}`);
      if (!id) throw new AppError('conflict', `No Stripe price was created for ${c.key} of ${shape.plan.id}`);
      if (!prices.has(id)) prices.set(id, priceFromParams(id, stripePriceParams(shape.plan, c.key) as unknown as Record<string, unknown>));
      return { key: c.key, priceId: id, quantity: c.stripeQuantity };
    });
  return { items, prices };
}

/** What Stripe knows about the invoice of this period, as our records tell it. */
export async function stripeInvoiceInputFromRecords(db: Queryable, invoice: InvoiceRecord): Promise<StripeInvoiceInput> {
  const sub = await getSubscription(db, invoice.subscription_id);
  const plan = planLoader(db);
  const [periodStart, periodEnd] = [invoice.period_start.toISOString(), invoice.period_end.toISOString()];
  // Every change since the period began, walked back from the subscription as it is now.
  const now: SubscriptionShape = { plan: await plan(sub.plan_version_id), seats: sub.seats, addOns: sub.add_ons };
  const changes = await reconstructChanges(now, await shapeChanges(db, sub.id, periodStart, END_OF_TIME), plan);
  const inPeriod = changes.filter((c) => Date.parse(c.effectiveAt) < Date.parse(periodEnd));
  const { items, prices } = await itemsOf(db, [changes[0]?.before ?? now, ...inPeriod.map((c) => c.after)]);
  // The subscription went on past this period (a renewal invoice) unless it ended with it (we created a final one).
  const renews = await rolledPast(db, sub.id, periodEnd);
  const pushed = await pushedLines(db, invoice.id);
  return {
    prices,
    periodStart,
    periodEnd,
    itemsAtStart: items(changes[0]?.before ?? now),
    changes: inPeriod.map((c) => ({ at: c.effectiveAt, items: items(c.after) })),
    renews,
    invoiceItems: pushed.map((p) => ({ description: p.description, amountCents: p.amount_cents })),
  };
}
