/**
 * A Stripe subscription an operator starts without Checkout, as the workflow must see it: which item
 * carries which of our components, and its first period. Pure.
 */
import type { StripeSubscriptionSummary } from '../workflows/stripe-event.js';
import { nextPeriodEnd, type Interval } from '../workflows/periods.js';

/** How far Stripe's period start may lie from the start we asked for (Stripe starts it on receipt). */
const START_TOLERANCE_MS = 60_000;

export interface RequestedItem {
  component: string;
  priceId: string;
  quantity: number;
}

/**
 * Stripe's answer, with each requested item found by its price. Stripe answers with the items it
 * created; stripe-mock (stateless) answers with a fixture instead, whose items and periods are not
 * ours: then the items are named after the subscription (as the local Stripe tools name them, see
 * src/dev/stripe-event-payloads.ts#itemIds) and the period is the one we asked for.
 */
export function startedSubscription(answer: StripeSubscriptionSummary, requested: RequestedItem[], startsAt: string, interval: Interval): StripeSubscriptionSummary {
  const items = requested.map((r, n) => {
    const found = answer.items.find((i) => i.priceId === r.priceId);
    return { id: found?.id ?? `${answer.id.replace(/^sub_/, 'si_')}_${n + 1}`, priceId: r.priceId, quantity: r.quantity };
  });
  const start = answer.currentPeriodStart ? Date.parse(answer.currentPeriodStart) : NaN;
  const end = answer.currentPeriodEnd ? Date.parse(answer.currentPeriodEnd) : NaN;
  const stripesOwn = Math.abs(start - Date.parse(startsAt)) <= START_TOLERANCE_MS && end > start;
  return {
    ...answer,
    items,
    currentPeriodStart: stripesOwn ? answer.currentPeriodStart : startsAt,
    currentPeriodEnd: stripesOwn ? answer.currentPeriodEnd : nextPeriodEnd(startsAt, interval),
  };
}
