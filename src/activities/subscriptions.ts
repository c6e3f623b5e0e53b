/**
 * Postgres activities of the subscription workflow: thin adapters over src/subscriptions/lifecycle.ts
 * and the Stripe price store (one transaction each, idempotent by request id).
 */
import { getPlanVersion } from '../catalog/plan-versions.js';
import { recordStripePrices, stripePricesOf } from '../billing/stripe-price-store.js';
import { componentKeys } from '../subscriptions/components.js';
import {
  activateSubscription,
  endSubscription,
  movePeriodEnd,
  previewPlanChange,
  recordSubscriptionChange,
  rollSubscriptionPeriod,
  stripeItemChanges,
  type Activation,
  type StripeItemChange,
  type SubscriptionChange,
} from '../subscriptions/lifecycle.js';
import { recordCheckoutSession } from '../subscriptions/subscription-store.js';
import type { ProrationResult } from '../workflows/subscription-messages.js';
import type { DbActivityDeps } from './deps.js';
import { activity } from './failures.js';

export function createSubscriptionActivities({ sql }: DbActivityDeps) {
  return {
    /** Components a plan version needs Stripe prices for, with the price already created, if any. */
    stripePriceComponents: activity(async (input: { planVersionId: string; addOns: string[] }) => {
      const plan = await getPlanVersion(sql, input.planVersionId);
      const known = await stripePricesOf(sql, input.planVersionId);
      return componentKeys(plan, input.addOns).map((component) => ({ component, stripePriceId: known.get(component) ?? null }));
    }),

    /** First writer wins: returns what is stored, which every later checkout uses. */
    recordStripePrices: activity(
      async (input: { planVersionId: string; prices: Record<string, { priceId: string; productId: string }> }): Promise<Record<string, string>> =>
        Object.fromEntries(await recordStripePrices(sql, input.planVersionId, input.prices)),
    ),

    recordCheckoutSession: activity(async (input: { subscriptionId: string; checkoutSessionId: string; checkoutUrl: string }): Promise<void> =>
      recordCheckoutSession(sql, input),
    ),

    planInterval: activity(async (input: { planVersionId: string }): Promise<'month' | 'year'> => (await getPlanVersion(sql, input.planVersionId)).interval),

    /** Checkout completed: the subscription is live, prices the team's usage, and knows its Stripe items. */
    activateSubscription: activity(async (input: Activation): Promise<void> => activateSubscription(sql, input)),

    /** Item changes for Stripe that bring the subscription to these seats, add-ons and prices. */
    stripeItemChanges: activity(
      async (input: { subscriptionId: string; prices: Record<string, string> | null; seats: number; addOns: string[] }): Promise<StripeItemChange[]> =>
        stripeItemChanges(sql, input),
    ),

    recordSubscriptionChange: activity(async (input: SubscriptionChange): Promise<void> => recordSubscriptionChange(sql, input)),

    /** The proration a plan change will cause: the same lines the close of the period invoices (billing/change-proration.ts). */
    previewPlanChange: activity(
      async (input: { subscriptionId: string; toPlanVersionId: string; effectiveAt: string; periodStart: string; periodEnd: string }): Promise<Omit<ProrationResult, 'requestId'>> =>
        previewPlanChange(sql, input),
    ),

    /** Stripe moved the current period's end: the subscription and its usage period follow. */
    movePeriodEnd: activity(async (input: { subscriptionId: string; teamId: string; periodEnd: string; newEnd: string; requestId: string }): Promise<void> =>
      movePeriodEnd(sql, input),
    ),

    /** The next period begins: its usage period opens (before any usage can miss it) and the subscription moves on. */
    rollSubscriptionPeriod: activity(
      async (input: { subscriptionId: string; teamId: string; periodStart: string; periodEnd: string; periodMs?: number | null; requestId: string }): Promise<void> =>
        rollSubscriptionPeriod(sql, input),
    ),

    endSubscription: activity(async (input: { subscriptionId: string; teamId: string; endedAt: string; requestId: string }): Promise<void> => endSubscription(sql, input)),
  };
}
