/**
 * Invoices one subscription period. First it closes the usage period in a short transaction of its
 * own (later usage arrives late); the close holds the team's usage lock exclusively, so it is kept
 * short. Then, in one transaction, it reads the subscription as it ended the period, its changes, the period's usage
 * counters as they stood at the close and the late usage assigned to it, prices them with the plan versions
 * (src/billing/period-lines.ts), writes the invoice and posts it to the ledger. All or nothing, and
 * idempotent: a period already invoiced returns its stored invoice unchanged.
 */
import { getPlanVersion, type PlanVersion } from '../catalog/plan-versions.js';
import { inTransaction, type Queryable, type Sql } from '../shared/db.js';
import { notFound } from '../shared/errors.js';
import { adjustmentsForInvoice, closeUsagePeriod, periodCounters, periodCountersAtClose, type UsageAdjustment } from '../usage/billing-periods.js';
import { postInvoice } from './invoice-posting.js';
import { getSubscription, shapeChanges, type ChangeRow, type SubscriptionRow } from '../subscriptions/subscription-store.js';
import { subscriptionUsagePeriod } from '../subscriptions/usage-period.js';
import { invoiceIdFor } from './invoices.js';
import { invoicedUsage, writeInvoice } from './invoice-store.js';
import { stripeCustomerOf } from '../platform/billing-customer-store.js';
import { periodLines, type AdjustmentInput, type PeriodInputs, type ShapeChange, type SubscriptionShape } from './period-lines.js';

/** An instant after every change a subscription can have (the open end of "changes since"). */
const AFTER_EVERY_CHANGE = '9999-12-31T23:59:59.999Z';

export interface RatePeriodInput {
  subscriptionId: string;
  periodStart: string;
  periodEnd: string;
  nextPeriodEnd: string | null;
  mode: 'renewal' | 'final';
  workflowId: string;
}

export interface RatedInvoice {
  invoiceId: string;
  totalCents: string;
  created: boolean;
  /** Lines Stripe does not compute itself: usage and adjustments with a non-zero amount. */
  linesToPush: PushLine[];
}

export interface PushLine {
  lineNo: number;
  description: string;
  amountCents: string;
  currency: string;
  periodStart: string;
  periodEnd: string;
  stripeCustomerId: string;
  metadata: Record<string, string>;
}

/** Plan versions by id, each read once per loader. */
export function planLoader(db: Queryable) {
  const cache = new Map<string, Promise<PlanVersion>>();
  return (id: string) => {
    if (!cache.has(id)) cache.set(id, getPlanVersion(db, id));
    return cache.get(id)!;
  };
}

/** Walks the period's changes back from the end state: each change's `before` is the state it replaced. */
export async function reconstructChanges(end: SubscriptionShape, rows: ChangeRow[], plan: (id: string) => Promise<PlanVersion>): Promise<ShapeChange[]> {
  const changes: ShapeChange[] = [];
  let after = end;
  for (const row of [...rows].reverse()) {
    const d = row.detail as { from: unknown; to: unknown };
    const before: SubscriptionShape =
      row.kind === 'seats'
        ? { ...after, seats: d.from as number }
        : row.kind === 'add_ons'
          ? { ...after, addOns: d.from as string[] }
          : { ...after, plan: await plan(d.from as string) };
    changes.unshift({ effectiveAt: row.effective_at.toISOString(), before, after });
    after = before;
  }
  return changes;
}

async function adjustmentInputs(tx: Queryable, adjustments: UsageAdjustment[], teamId: string, plan: (id: string) => Promise<PlanVersion>): Promise<AdjustmentInput[]> {
  const byPeriod = new Map<string, typeof adjustments>();
  for (const a of adjustments) byPeriod.set(a.periodId, [...(byPeriod.get(a.periodId) ?? []), a]);
  const inputs: AdjustmentInput[] = [];
  for (const [correctedId, rows] of byPeriod) {
    const [period] = await tx<{ period_start: Date }[]>`select period_start from billing_periods where id = ${correctedId}`;
    // What the corrected period's invoice charged per price: its usage line plus earlier adjustments.
    const invoiced = await invoicedUsage(tx, teamId, period!.period_start);
    // A period no subscription invoiced (usage before subscribing) has nothing to correct.
    const planVersionId = invoiced[0]?.plan_version_id;
    if (!planVersionId) continue;
    inputs.push({
      correctsPeriodStart: period!.period_start.toISOString(),
      plan: await plan(planVersionId),
      invoicedQuantity: Object.fromEntries(invoiced.map((r) => [r.price_key, r.quantity])),
      counters: rows.map((a) => ({ meter: a.meter, dimensions: a.dimensions, quantity: a.quantityDelta, adjustmentId: a.adjustmentId, eventIds: a.eventIds })),
    });
  }
  return inputs;
}

/**
 * What a period's invoice is computed from: the subscription's shape at the period's end (its shape
 * now, with any later changes walked back) and the changes of the period (prorations), the usage period's counters, and the late usage `adjustments`
 * it carries. The close reads it after closing the usage period; the preview (invoice-preview.ts)
 * reads it while the period is open. Either way the lines come from the same periodLines.
 */
export async function periodInputs(
  db: Queryable,
  sub: SubscriptionRow,
  input: { periodStart: string; periodEnd: string; nextPeriodEnd: string | null; usagePeriodId: bigint | string; adjustments: UsageAdjustment[]; closed: boolean },
): Promise<PeriodInputs> {
  const plan = planLoader(db);
  const current: SubscriptionShape = { plan: await plan(sub.plan_version_id), seats: sub.seats, addOns: sub.add_ons };
  // A close that runs late (worker down across the end) may find changes of the next period applied
  // already: the period is rated with the shape it ended in, so those are walked back first.
  const later = await reconstructChanges(current, await shapeChanges(db, sub.id, input.periodEnd, AFTER_EVERY_CHANGE), plan);
  const end = later[0]?.before ?? current;
  return {
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    nextPeriodEnd: input.nextPeriodEnd,
    end,
    changes: await reconstructChanges(end, await shapeChanges(db, sub.id, input.periodStart, input.periodEnd), plan),
    // Usage of the whole period is priced by the plan version it ends on (documented in README).
    usage: { plan: end.plan, counters: await (input.closed ? periodCountersAtClose : periodCounters)(db, input.usagePeriodId) },
    adjustments: await adjustmentInputs(db, input.adjustments, sub.team_id, plan),
  };
}

export async function invoicePeriod(sql: Sql, input: RatePeriodInput): Promise<RatedInvoice> {
  const invoiceId = invoiceIdFor(input.subscriptionId, input.periodStart);
  const periodId = await inTransaction(sql, async (tx) => {
    const sub = await getSubscription(tx, input.subscriptionId);
    const period = await subscriptionUsagePeriod(tx, sub.team_id, input.periodEnd);
    await closeUsagePeriod(tx, period.id);
    return period.id;
  });
  return inTransaction(sql, async (tx) => {
    const sub = await getSubscription(tx, input.subscriptionId);
    const stripeCustomerId = await stripeCustomerOf(tx, sub.team_id);
    if (!stripeCustomerId) throw notFound(`Stripe customer of team ${sub.team_id}`);

    const inputs = await periodInputs(tx, sub, {
      periodStart: input.periodStart,
      periodEnd: input.periodEnd,
      nextPeriodEnd: input.mode === 'renewal' ? input.nextPeriodEnd : null,
      usagePeriodId: periodId,
      adjustments: await adjustmentsForInvoice(tx, periodId),
      closed: true,
    });
    const lines = periodLines(inputs);
    const { row, lines: stored, created } = await writeInvoice(tx, {
      id: invoiceId,
      teamId: sub.team_id,
      subscriptionId: sub.id,
      periodStart: input.periodStart,
      periodEnd: input.periodEnd,
      currency: inputs.end.plan.currency,
      workflowId: input.workflowId,
      lines,
    });
    await postInvoice(tx, invoiceId);
    return {
      invoiceId,
      totalCents: row.total_cents.toString(),
      created,
      linesToPush: stored
        .filter((l) => l.push_to_stripe && l.amount_cents !== 0n)
        .map((l) => ({
          lineNo: l.line_no,
          description: l.description,
          amountCents: l.amount_cents.toString(),
          currency: row.currency.toLowerCase(),
          periodStart: l.covers_start.toISOString(),
          periodEnd: l.covers_end.toISOString(),
          stripeCustomerId,
          metadata: { invoice_id: invoiceId, line_no: String(l.line_no), price_key: l.price_key ?? '', plan_version_id: l.plan_version_id },
        })),
    };
  });
}
