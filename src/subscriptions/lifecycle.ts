/**
 * What the subscription workflow's Postgres steps do: each one transaction, idempotent by the
 * workflow's request id (a change appended twice is applied once). The activities
 * (src/activities/subscriptions.ts) are thin adapters over these.
 */
import { getPlanVersion } from '../catalog/plan-versions.js';
import { assignTeamPlan, endTeamPlan } from '../catalog/team-plans.js';
import { changeProration } from '../billing/change-proration.js';
import { stripePricesOf } from '../billing/stripe-price-store.js';
import { inTransaction, type Sql } from '../shared/db.js';
import { AppError } from '../shared/errors.js';
import { endPeriodCadence, moveBillingPeriodEnd, openBillingPeriod } from '../usage/billing-periods.js';
import type { StripeSubscriptionSummary } from '../workflows/stripe-event.js';
import type { ProrationResult } from '../workflows/subscription-messages.js';
import { fixedComponents } from './components.js';
import { appendChange, getSubscription, markActive, markCanceled, setCurrentPeriod, updateShape, type ChangeKind, type ShapeUpdate } from './subscription-store.js';
import { openSubscriptionUsagePeriod } from './usage-period.js';

const ACTOR = 'subscription-workflow';

/** One change of a Stripe subscription's items: an item kept (new quantity or price), added, or deleted. */
export interface StripeItemChange {
  id?: string;
  price?: string;
  quantity?: number;
  deleted?: boolean;
}

/**
 * The cadence of a subscription's usage periods (a Postgres interval): what ingest shapes the next
 * period by when usage arrives before the roll opens it. Fixed test periods, else the plan's interval,
 * stepped as src/workflows/periods.ts steps it.
 */
function periodCadence(periodMs: number | null | undefined, interval: 'month' | 'year'): string {
  return periodMs ? `${periodMs} milliseconds` : `1 ${interval}`;
}

export interface Activation {
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
}

/** Checkout completed: the subscription is live, prices the team's usage, and knows its Stripe items. */
export async function activateSubscription(sql: Sql, input: Activation): Promise<void> {
  await inTransaction(sql, async (tx) => {
    const componentOf = new Map([...(await stripePricesOf(tx, input.planVersionId))].map(([component, priceId]) => [priceId, component]));
    const items = Object.fromEntries(
      input.stripeItems.flatMap((i) => {
        const component = i.priceId ? componentOf.get(i.priceId) : undefined;
        return component ? [[component, i.id]] : [];
      }),
    );
    const fresh = await appendChange(tx, {
      subscriptionId: input.subscriptionId,
      requestId: input.requestId,
      kind: 'activated',
      effectiveAt: input.periodStart,
      detail: { stripeSubscriptionId: input.stripeSubscriptionId, periodStart: input.periodStart, periodEnd: input.periodEnd },
    });
    if (!fresh) return;
    await markActive(tx, { subscriptionId: input.subscriptionId, stripeSubscriptionId: input.stripeSubscriptionId, items, periodStart: input.periodStart, periodEnd: input.periodEnd });
    await assignTeamPlan(
      tx,
      { teamId: input.teamId, planVersionId: input.planVersionId, effectiveFrom: input.periodStart, source: 'subscription', sourceRef: input.subscriptionId },
      ACTOR,
    );
    const cadence = periodCadence(input.periodMs, (await getPlanVersion(tx, input.planVersionId)).interval);
    await openSubscriptionUsagePeriod(tx, input.teamId, input.periodStart, input.periodEnd, ACTOR, cadence);
  });
}

/** Item changes for Stripe that bring the subscription to these seats, add-ons and prices. */
export async function stripeItemChanges(
  sql: Sql,
  input: { subscriptionId: string; prices: Record<string, string> | null; seats: number; addOns: string[] },
): Promise<StripeItemChange[]> {
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
}

export interface SubscriptionChange extends ShapeUpdate {
  subscriptionId: string;
  teamId: string;
  requestId: string;
  kind: ChangeKind;
  effectiveAt: string;
  detail: Record<string, unknown>;
  /** Plan changes: when the new version starts pricing usage (exact instant; effectiveAt is Stripe's second). */
  assignFrom?: string;
}

/** A seat, add-on, plan or cancellation change: appended once, then applied to the row. */
export async function recordSubscriptionChange(sql: Sql, input: SubscriptionChange): Promise<void> {
  await inTransaction(sql, async (tx) => {
    if (!(await appendChange(tx, input))) return;
    await updateShape(tx, input.subscriptionId, input);
    if (input.planVersionId !== undefined) {
      // Usage from now on is priced by the new version (the invoice prices a period by the version it ends on).
      await assignTeamPlan(
        tx,
        { teamId: input.teamId, planVersionId: input.planVersionId, effectiveFrom: input.assignFrom ?? input.effectiveAt, source: 'subscription', sourceRef: input.subscriptionId },
        ACTOR,
      );
    }
  });
}

/** The proration a plan change will cause: the same lines the close of the period invoices (billing/change-proration.ts). */
export async function previewPlanChange(
  sql: Sql,
  input: { subscriptionId: string; toPlanVersionId: string; effectiveAt: string; periodStart: string; periodEnd: string },
): Promise<Omit<ProrationResult, 'requestId'>> {
  const sub = await getSubscription(sql, input.subscriptionId);
  const from = await getPlanVersion(sql, sub.plan_version_id);
  const to = await getPlanVersion(sql, input.toPlanVersionId);
  if (to.currency !== from.currency) throw new AppError('validation_failed', `Plan ${to.id} is in ${to.currency}, the subscription in ${from.currency}`);
  const shape = { seats: sub.seats, addOns: sub.add_ons };
  const p = changeProration({ effectiveAt: input.effectiveAt, before: { plan: from, ...shape }, after: { plan: to, ...shape } }, input.periodStart, input.periodEnd);
  return { fromPlanVersionId: from.id, toPlanVersionId: to.id, effectiveAt: input.effectiveAt, creditAmount: p.creditAmount, chargeAmount: p.chargeAmount, netAmount: p.netAmount };
}

/** Stripe moved the current period's end: the subscription and its usage period follow. */
export async function movePeriodEnd(sql: Sql, input: { subscriptionId: string; teamId: string; periodEnd: string; newEnd: string; requestId: string }): Promise<void> {
  await moveBillingPeriodEnd(sql, { teamId: input.teamId, periodEnd: new Date(input.periodEnd), newEnd: new Date(input.newEnd) }, ACTOR);
  await inTransaction(sql, async (tx) => {
    if (!(await appendChange(tx, { ...input, kind: 'period', effectiveAt: input.newEnd, detail: { from: input.periodEnd, to: input.newEnd } }))) return;
    await setCurrentPeriod(tx, input.subscriptionId, { end: input.newEnd });
  });
}

/** The next period begins: its usage period opens (before any usage can miss it) and the subscription moves on. */
export async function rollSubscriptionPeriod(
  sql: Sql,
  input: { subscriptionId: string; teamId: string; periodStart: string; periodEnd: string; periodMs?: number | null; requestId: string },
): Promise<void> {
  await inTransaction(sql, async (tx) => {
    if (!(await appendChange(tx, { ...input, kind: 'period', effectiveAt: input.periodStart, detail: { periodStart: input.periodStart, periodEnd: input.periodEnd } }))) return;
    const sub = await getSubscription(tx, input.subscriptionId);
    const cadence = periodCadence(input.periodMs, (await getPlanVersion(tx, sub.plan_version_id)).interval);
    await openBillingPeriod(tx, { teamId: input.teamId, periodStart: new Date(input.periodStart), periodEnd: new Date(input.periodEnd), cadence }, ACTOR);
    await setCurrentPeriod(tx, input.subscriptionId, { start: input.periodStart, end: input.periodEnd });
  });
}

export async function endSubscription(sql: Sql, input: { subscriptionId: string; teamId: string; endedAt: string; requestId: string }): Promise<void> {
  await inTransaction(sql, async (tx) => {
    if (!(await appendChange(tx, { ...input, kind: 'status', effectiveAt: input.endedAt, detail: { status: 'canceled' } }))) return;
    await markCanceled(tx, input.subscriptionId);
    // No period follows the last one: usage after it goes into calendar months again.
    await endPeriodCadence(tx, input.teamId, input.endedAt);
    await endTeamPlan(tx, { teamId: input.teamId, effectiveTo: input.endedAt }, ACTOR);
  });
}
