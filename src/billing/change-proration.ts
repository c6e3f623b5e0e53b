/**
 * The proration a change of seats, add-ons or plan causes, as its endpoint answers it: the very
 * proration lines the period's close will invoice for it (period-lines.ts#prorationLines), each
 * rounded as the invoice rounds it, and their sums in cents (credit, charge, net).
 */
import type { Queryable } from '../shared/db.js';
import { formatMinor, STRIPE_SCALE } from '../shared/money.js';
import { changeWithLaterOnes, getSubscription } from '../subscriptions/subscription-store.js';
import { previewLine, type PreviewLine } from './invoice-preview.js';
import { prorationLines, type ShapeChange, type SubscriptionShape } from './period-lines.js';
import { planLoader, reconstructChanges } from './rate-period.js';

export interface ChangeProration {
  effectiveAt: string;
  periodStart: string;
  periodEnd: string;
  fromPlanVersionId: string;
  toPlanVersionId: string;
  /** Cents as decimal strings in the major unit: Σ credits (positive), Σ charges, charge − credit. */
  creditAmount: string;
  chargeAmount: string;
  netAmount: string;
  lines: PreviewLine[];
}

/** The proration of one change in the period [periodStart, periodEnd). Pure. */
export function changeProration(change: ShapeChange, periodStart: string, periodEnd: string): ChangeProration {
  const currency = change.after.plan.currency;
  const drafts = prorationLines(change, periodStart, periodEnd);
  const credit = drafts.reduce((t, l) => (l.amountCents < 0n ? t - l.amountCents : t), 0n);
  const charge = drafts.reduce((t, l) => (l.amountCents > 0n ? t + l.amountCents : t), 0n);
  const scale = STRIPE_SCALE[currency]!;
  return {
    effectiveAt: change.effectiveAt,
    periodStart,
    periodEnd,
    fromPlanVersionId: change.before.plan.id,
    toPlanVersionId: change.after.plan.id,
    creditAmount: formatMinor(credit, scale),
    chargeAmount: formatMinor(charge, scale),
    netAmount: formatMinor(charge - credit, scale),
    lines: drafts.map((l, i) => previewLine(l, i + 1, currency)),
  };
}

/**
 * The proration of the change recorded for `requestId`, once the workflow has applied it; null while
 * it has not (or when it changed nothing, or its period has ended since).
 */
export async function recordedChangeProration(sql: Queryable, subscriptionId: string, requestId: string): Promise<ChangeProration | null> {
  const rows = await changeWithLaterOnes(sql, subscriptionId, requestId);
  if (rows.length === 0) return null;
  const sub = await getSubscription(sql, subscriptionId);
  if (!sub.current_period_start || !sub.current_period_end || rows[0]!.effective_at < sub.current_period_start) return null;
  const plan = planLoader(sql);
  const end: SubscriptionShape = { plan: await plan(sub.plan_version_id), seats: sub.seats, addOns: sub.add_ons };
  const [change] = await reconstructChanges(end, rows, plan);
  return changeProration(change!, sub.current_period_start.toISOString(), sub.current_period_end.toISOString());
}
