/**
 * The invoice a team's open period would produce if it closed now: the same inputs and the same
 * rating (periodInputs → periodLines) as the period close, read in one snapshot without writing
 * anything. Taken just before the close, it equals the closed invoice line for line.
 */
import type { Sql } from '../shared/db.js';
import { notFound } from '../shared/errors.js';
import { formatMinor, LEDGER_SCALE, STRIPE_SCALE } from '../shared/money.js';
import { pendingAdjustments } from '../usage/billing-periods.js';
import { currentSubscription } from '../subscriptions/subscription-store.js';
import { subscriptionUsagePeriod } from '../subscriptions/usage-period.js';
import { nextPeriodEnd } from '../workflows/periods.js';
import { invoiceIdFor, type InvoiceLineView } from './invoices.js';
import { periodLines, type InvoiceLineDraft } from './period-lines.js';
import { periodInputs } from './rate-period.js';
import type { InvoicePreview as SdkInvoicePreview } from '../../sdk/src/types.js';

export type PreviewLine = Omit<InvoiceLineView, 'stripeInvoiceItemId' | 'ledgerTransactionId'>;

/** What the open period's invoice would be if it closed now: the SDK's type is the one definition of the wire shape. */
export type InvoicePreview = SdkInvoicePreview;

/** A computed line as the invoice read API shows a stored one. */
export function previewLine(l: InvoiceLineDraft, lineNo: number, currency: string): PreviewLine {
  return {
    lineNo,
    kind: l.kind,
    description: l.description,
    planVersionId: l.planVersionId,
    priceKey: l.priceKey,
    meter: l.meter,
    dimensions: (l.provenance.dimensions as Record<string, string>[] | undefined) ?? null,
    quantity: l.quantity.toFixed(),
    amountExact: l.amountExact.toFixed(),
    amount: formatMinor(l.amountMinor, LEDGER_SCALE[currency]!),
    amountCharged: formatMinor(l.amountCents, STRIPE_SCALE[currency]!),
    coversStart: new Date(l.coversStart).toISOString(),
    coversEnd: new Date(l.coversEnd).toISOString(),
    provenance: l.provenance,
  };
}

/**
 * Previews the open period of the team's live subscription. `periodMs` is the fixed period length
 * new subscriptions get from this api (null: Stripe's calendar periods), which decides where the
 * next period, whose fees the renewal charges in advance, ends.
 */
export async function previewInvoice(sql: Sql, teamId: string, timing: { periodMs: number | null }, now = new Date()): Promise<InvoicePreview> {
  // One snapshot: usage and changes arriving meanwhile are either all in or all out.
  return (await sql.begin('isolation level repeatable read read only', async (tx) => {
    const sub = await currentSubscription(tx, teamId);
    const live = sub && ['active', 'past_due', 'restricted'].includes(sub.status) && sub.current_period_start && sub.current_period_end;
    if (!sub || !live) throw notFound(`An open billing period of team ${teamId}`);
    const periodStart = sub.current_period_start!.toISOString();
    const periodEnd = sub.current_period_end!.toISOString();
    const usagePeriod = await subscriptionUsagePeriod(tx, teamId, periodEnd);
    const mode = sub.cancel_at_period_end ? 'final' : 'renewal';
    const [plan] = await tx<{ interval: 'month' | 'year' }[]>`select interval from plan_versions where id = ${sub.plan_version_id}`;
    const next = mode === 'final' ? null : timing.periodMs !== null ? new Date(sub.current_period_end!.getTime() + timing.periodMs).toISOString() : nextPeriodEnd(periodEnd, plan!.interval);
    const inputs = await periodInputs(tx, sub, {
      periodStart,
      periodEnd,
      nextPeriodEnd: next,
      usagePeriodId: usagePeriod.id,
      // What closing the period would assign to its invoice: late usage of earlier periods not yet invoiced.
      adjustments: (await pendingAdjustments(tx, teamId)).filter((a) => a.periodId !== usagePeriod.id.toString()),
      closed: false,
    });
    const currency = inputs.end.plan.currency;
    const lines = periodLines(inputs);
    return {
      invoiceId: invoiceIdFor(sub.id, periodStart),
      teamId,
      subscriptionId: sub.id,
      periodStart,
      periodEnd,
      mode,
      nextPeriodEnd: next,
      asOf: now.toISOString(),
      currency,
      total: formatMinor(lines.reduce((t, l) => t + l.amountMinor, 0n), LEDGER_SCALE[currency]!),
      totalCharged: formatMinor(lines.reduce((t, l) => t + l.amountCents, 0n), STRIPE_SCALE[currency]!),
      lines: lines.map((l, i) => previewLine(l, i + 1, currency)),
    };
  })) as InvoicePreview;
}
