/** Postgres activities of the subscription workflow: one transaction each, idempotent by request id. */
import { getPlanVersion } from '../catalog/plan-versions.js';
import { assignTeamPlan, endTeamPlan } from '../catalog/team-plans.js';
import { inTransaction } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { moveBillingPeriodEnd, openBillingPeriod } from '../usage/billing-periods.js';
import { openSubscriptionUsagePeriod } from '../subscriptions/usage-period.js';
import { componentKeys, fixedComponents, type ComponentKey } from '../subscriptions/components.js';
import { appendChange, getSubscription, type ChangeKind } from '../subscriptions/store.js';
import { changeProration } from '../billing/change-proration.js';
import type { StripeSubscriptionSummary } from '../workflows/stripe-event.js';
import type { ProrationResult } from '../workflows/subscription-messages.js';
import type { ActivityDeps } from './deps.js';
import { activity } from './failures.js';
import type { StripeItemChange } from './stripe-billing.js';

const ACTOR = 'subscription-workflow';

export function createSubscriptionActivities({ sql }: ActivityDeps) {
  return {
    /** Components a plan version needs Stripe prices for, with the price already created, if any. */
    stripePriceComponents: activity(async (input: { planVersionId: string; addOns: string[] }) => {
      const plan = await getPlanVersion(sql, input.planVersionId);
      const rows = await sql<{ component: string; stripe_price_id: string }[]>`
        select component, stripe_price_id from stripe_prices where plan_version_id = ${input.planVersionId}`;
      const known = new Map(rows.map((r) => [r.component, r.stripe_price_id]));
      return componentKeys(plan, input.addOns).map((component) => ({ component, stripePriceId: known.get(component) ?? null }));
    }),

    recordStripePrices: activity(
      async (input: { planVersionId: string; prices: Record<string, { priceId: string; productId: string }> }): Promise<Record<string, string>> => {
        const entries = Object.entries(input.prices);
        if (entries.length > 0) {
          await sql`insert into stripe_prices ${sql(
            entries.map(([component, p]) => ({ plan_version_id: input.planVersionId, component, stripe_price_id: p.priceId, stripe_product_id: p.productId })),
          )} on conflict (plan_version_id, component) do nothing`;
        }
        // First writer wins: return what is stored, which every later checkout uses.
        const rows = await sql<{ component: string; stripe_price_id: string }[]>`
          select component, stripe_price_id from stripe_prices where plan_version_id = ${input.planVersionId}`;
        return Object.fromEntries(rows.map((r) => [r.component, r.stripe_price_id]));
      },
    ),

    recordCheckoutSession: activity(async (input: { subscriptionId: string; checkoutSessionId: string; checkoutUrl: string }): Promise<void> => {
      await sql`
        update subscriptions set stripe_checkout_session_id = ${input.checkoutSessionId}, stripe_checkout_url = ${input.checkoutUrl}, updated_at = now()
        where id = ${input.subscriptionId} and stripe_checkout_session_id is null`;
    }),

    planInterval: activity(async (input: { planVersionId: string }): Promise<'month' | 'year'> => (await getPlanVersion(sql, input.planVersionId)).interval),

    /** Checkout completed: the subscription is live, prices the team's usage, and knows its Stripe items. */
    activateSubscription: activity(
      async (input: {
        subscriptionId: string;
        teamId: string;
        planVersionId: string;
        stripeSubscriptionId: string;
        stripeItems: StripeSubscriptionSummary['items'];
        periodStart: string;
        periodEnd: string;
        /** The subscription's fixed period length (tests), null when periods follow the plan's interval. */
        periodMs?: number | null;
        requestId: string;
      }): Promise<void> => {
        await inTransaction(sql, async (tx) => {
          const prices = await tx<{ component: string; stripe_price_id: string }[]>`
            select component, stripe_price_id from stripe_prices where plan_version_id = ${input.planVersionId}`;
          const componentOf = new Map(prices.map((p) => [p.stripe_price_id, p.component]));
          const items = Object.fromEntries(
            input.stripeItems.flatMap((i) => (i.priceId && componentOf.has(i.priceId) ? [[componentOf.get(i.priceId)!, i.id]] : [])),
          );
          const fresh = await appendChange(tx, {
            subscriptionId: input.subscriptionId,
            requestId: input.requestId,
            kind: 'activated',
            effectiveAt: input.periodStart,
            detail: { stripeSubscriptionId: input.stripeSubscriptionId, periodStart: input.periodStart, periodEnd: input.periodEnd },
          });
          if (!fresh) return;
          await tx`
            update subscriptions set status = 'active', stripe_subscription_id = ${input.stripeSubscriptionId}, stripe_items = ${tx.json(items)},
                   current_period_start = ${input.periodStart}, current_period_end = ${input.periodEnd}, updated_at = now()
            where id = ${input.subscriptionId}`;
          await assignTeamPlan(
            tx,
            { teamId: input.teamId, planVersionId: input.planVersionId, effectiveFrom: input.periodStart, source: 'subscription', sourceRef: input.subscriptionId },
            ACTOR,
          );
          const cadence = periodCadence(input.periodMs, (await getPlanVersion(tx, input.planVersionId)).interval);
          await openSubscriptionUsagePeriod(tx, input.teamId, input.periodStart, input.periodEnd, ACTOR, cadence);
        });
      },
    ),

    /** Item changes for Stripe that bring the subscription to these seats, add-ons and prices. */
    stripeItemChanges: activity(
      async (input: { subscriptionId: string; prices: Record<string, string> | null; seats: number; addOns: string[] }): Promise<StripeItemChange[]> => {
        const sub = await getSubscription(sql, input.subscriptionId);
        const plan = await getPlanVersion(sql, sub.plan_version_id);
        const wanted = fixedComponents(plan, input.seats, input.addOns);
        const changes: StripeItemChange[] = wanted.map((c) => {
          const id = sub.stripe_items[c.key];
          const price = input.prices?.[c.key];
          if (!id && !price) throw new AppError('conflict', `No Stripe item or price for component ${c.key} of subscription ${sub.id}`);
          return { ...(id ? { id } : {}), ...(price ? { price } : {}), quantity: c.stripeQuantity };
        });
        const keep = new Set<string>(wanted.map((c) => c.key));
        for (const [key, id] of Object.entries(sub.stripe_items)) if (!keep.has(key)) changes.push({ id, deleted: true });
        return changes;
      },
    ),

    recordSubscriptionChange: activity(
      async (input: {
        subscriptionId: string;
        teamId: string;
        requestId: string;
        kind: ChangeKind;
        effectiveAt: string;
        detail: Record<string, unknown>;
        seats?: number;
        addOns?: string[];
        planVersionId?: string;
        /** Plan changes: when the new version starts pricing usage (exact instant; effectiveAt is Stripe's second). */
        assignFrom?: string;
        cancelAtPeriodEnd?: boolean;
      }): Promise<void> => {
        await inTransaction(sql, async (tx) => {
          if (!(await appendChange(tx, input))) return;
          if (input.seats !== undefined) await tx`update subscriptions set seats = ${input.seats}, updated_at = now() where id = ${input.subscriptionId}`;
          if (input.addOns !== undefined) await tx`update subscriptions set add_ons = ${tx.json(input.addOns)}, updated_at = now() where id = ${input.subscriptionId}`;
          if (input.cancelAtPeriodEnd !== undefined) {
            await tx`update subscriptions set cancel_at_period_end = ${input.cancelAtPeriodEnd}, updated_at = now() where id = ${input.subscriptionId}`;
          }
          if (input.planVersionId !== undefined) {
            await tx`update subscriptions set plan_version_id = ${input.planVersionId}, updated_at = now() where id = ${input.subscriptionId}`;
            // Usage from now on is priced by the new version (the invoice prices a period by the version it ends on).
            await assignTeamPlan(
              tx,
              { teamId: input.teamId, planVersionId: input.planVersionId, effectiveFrom: input.assignFrom ?? input.effectiveAt, source: 'subscription', sourceRef: input.subscriptionId },
              ACTOR,
            );
          }
        });
      },
    ),

    /** The proration a plan change will cause: the same lines the close of the period invoices (billing/change-proration.ts). */
    previewPlanChange: activity(
      async (input: { subscriptionId: string; toPlanVersionId: string; effectiveAt: string; periodStart: string; periodEnd: string }): Promise<Omit<ProrationResult, 'requestId'>> => {
        const sub = await getSubscription(sql, input.subscriptionId);
        const from = await getPlanVersion(sql, sub.plan_version_id);
        const to = await getPlanVersion(sql, input.toPlanVersionId);
        if (to.currency !== from.currency) throw new AppError('validation_failed', `Plan ${to.id} is in ${to.currency}, the subscription in ${from.currency}`);
        const shape = { seats: sub.seats, addOns: sub.add_ons };
        const p = changeProration({ effectiveAt: input.effectiveAt, before: { plan: from, ...shape }, after: { plan: to, ...shape } }, input.periodStart, input.periodEnd);
        return { fromPlanVersionId: from.id, toPlanVersionId: to.id, effectiveAt: input.effectiveAt, creditAmount: p.creditAmount, chargeAmount: p.chargeAmount, netAmount: p.netAmount };
      },
    ),

    /** Stripe moved the current period's end: the subscription and its usage period follow. */
    movePeriodEnd: activity(
      async (input: { subscriptionId: string; teamId: string; periodEnd: string; newEnd: string; requestId: string }): Promise<void> => {
        await moveBillingPeriodEnd(sql, { teamId: input.teamId, periodEnd: new Date(input.periodEnd), newEnd: new Date(input.newEnd) }, ACTOR);
        await inTransaction(sql, async (tx) => {
          if (!(await appendChange(tx, { ...input, kind: 'period', effectiveAt: input.newEnd, detail: { from: input.periodEnd, to: input.newEnd } }))) return;
          await tx`update subscriptions set current_period_end = ${input.newEnd}, updated_at = now() where id = ${input.subscriptionId}`;
        });
      },
    ),

    /** The next period begins: its usage period opens (before any usage can miss it) and the subscription moves on. */
    rollSubscriptionPeriod: activity(
      async (input: { subscriptionId: string; teamId: string; periodStart: string; periodEnd: string; periodMs?: number | null; requestId: string }): Promise<void> => {
        await inTransaction(sql, async (tx) => {
          if (!(await appendChange(tx, { ...input, kind: 'period', effectiveAt: input.periodStart, detail: { periodStart: input.periodStart, periodEnd: input.periodEnd } }))) return;
          const sub = await getSubscription(tx, input.subscriptionId);
          const cadence = periodCadence(input.periodMs, (await getPlanVersion(tx, sub.plan_version_id)).interval);
          await openBillingPeriod(tx, { teamId: input.teamId, periodStart: new Date(input.periodStart), periodEnd: new Date(input.periodEnd), cadence }, ACTOR);
          await tx`
            update subscriptions set current_period_start = ${input.periodStart}, current_period_end = ${input.periodEnd}, updated_at = now()
            where id = ${input.subscriptionId}`;
        });
      },
    ),

    endSubscription: activity(async (input: { subscriptionId: string; teamId: string; endedAt: string; requestId: string }): Promise<void> => {
      await inTransaction(sql, async (tx) => {
        if (!(await appendChange(tx, { ...input, kind: 'status', effectiveAt: input.endedAt, detail: { status: 'canceled' } }))) return;
        await tx`update subscriptions set status = 'canceled', updated_at = now() where id = ${input.subscriptionId}`;
        // No period follows the last one: usage after it goes into calendar months again.
        await tx`update billing_periods set cadence = null where team_id = ${input.teamId} and period_end = ${input.endedAt} and source = 'explicit'`;
        await endTeamPlan(tx, { teamId: input.teamId, effectiveTo: input.endedAt }, ACTOR);
      });
    }),
  };
}

/**
 * The cadence of a subscription's usage periods (a Postgres interval): what ingest shapes the next
 * period by when usage arrives before the roll opens it. Fixed test periods, else the plan's interval,
 * stepped as src/workflows/periods.ts steps it.
 */
function periodCadence(periodMs: number | null | undefined, interval: 'month' | 'year'): string {
  return periodMs ? `${periodMs} milliseconds` : `1 ${interval}`;
}

export type ComponentPrices = Partial<Record<ComponentKey, string>>;
