/**
 * The lines of a period's invoice, computed purely from what the period was: the subscription's
 * fixed components and their changes, the usage counters and late-usage adjustments, and the plan
 * versions that price them. Lines mirror what Stripe's invoice for the period carries, so the two
 * totals can be reconciled: Stripe computes the fixed fees and prorations itself (its subscription
 * items), we compute the same independently, and we add the usage lines to its invoice.
 */
import type { PlanVersion } from '../catalog/plan-versions.js';
import { rateUsage, selectPrice, type UsageCounter } from '../pricing/dimensions.js';
import { prorate } from '../pricing/proration.js';
import { rateUsagePrice } from '../pricing/rate.js';
import { roundToMinor } from '../pricing/rounding.js';
import type { UsagePrice } from '../pricing/types.js';
import { Dec, LEDGER_SCALE, STRIPE_SCALE } from '../shared/money.js';
import { fixedComponents, type FixedComponent } from '../subscriptions/components.js';

export type LineKind = 'fixed' | 'proration' | 'usage' | 'adjustment';

export interface SubscriptionShape {
  plan: PlanVersion;
  seats: number;
  addOns: string[];
}

export interface ShapeChange {
  effectiveAt: string;
  before: SubscriptionShape;
  after: SubscriptionShape;
}

/** Late usage of an earlier, closed period, with what that period's invoices already charged. */
export interface AdjustmentInput {
  correctsPeriodStart: string;
  plan: PlanVersion;
  /** Quantity already invoiced per price key of that period (its usage line plus earlier adjustments). */
  invoicedQuantity: Readonly<Record<string, string>>;
  counters: (UsageCounter & { adjustmentId: string; eventIds: string[] })[];
}

export interface PeriodInputs {
  periodStart: string;
  periodEnd: string;
  /** End of the next period (renewal: its fixed fees are charged in advance); null for a final invoice. */
  nextPeriodEnd: string | null;
  end: SubscriptionShape;
  changes: ShapeChange[];
  usage: { plan: PlanVersion; counters: UsageCounter[] };
  adjustments: AdjustmentInput[];
}

export interface InvoiceLineDraft {
  kind: LineKind;
  description: string;
  planVersionId: string;
  /** Component key (fixed, proration) or usage price key (usage, adjustment). */
  priceKey: string | null;
  meter: string | null;
  quantity: Dec;
  amountExact: Dec;
  /** Ledger scale (micro-units), half-even. */
  amountMinor: bigint;
  /** Stripe's cents, half-up: what the line costs on the Stripe invoice. */
  amountCents: bigint;
  coversStart: string;
  coversEnd: string;
  provenance: Record<string, unknown>;
  /** Usage and adjustments go onto the Stripe invoice as items; Stripe computes the rest itself. */
  pushToStripe: boolean;
}

/** Stripe rounds each proration and decimal amount to the nearest cent, halves away from zero. */
export const STRIPE_ROUNDING = 'half_up' as const;

/** The rounding rule of invoices in words, for the API documentation (README says the same). */
export const INVOICE_ROUNDING_RULE =
  'Each line is computed exactly, then rounded twice from that exact amount: to ledger scale (USD: 6 decimals) half-even, which the ledger posts; and to cents half-up (halves away from zero, as Stripe rounds), which Stripe charges. Totals are sums of the rounded lines (`total` of the ledger amounts, `totalCharged` of the cents); nothing is rounded again after summing.';

function line(currency: string, draft: Omit<InvoiceLineDraft, 'amountMinor' | 'amountCents'>): InvoiceLineDraft {
  return {
    ...draft,
    amountMinor: roundToMinor(draft.amountExact, LEDGER_SCALE[currency]!, 'half_even'),
    amountCents: roundToMinor(draft.amountExact, STRIPE_SCALE[currency]!, STRIPE_ROUNDING),
  };
}

function byKey(components: FixedComponent[]): Map<string, FixedComponent> {
  return new Map(components.map((c) => [c.key, c]));
}

/**
 * The prorations one change of seats, add-ons or plan causes in its period: for each component whose
 * cost changed, a credit for the unused time of what was and a charge for the rest of what is, by
 * seconds, as Stripe prorates. The close invoices exactly these; the change endpoints answer with them.
 */
export function prorationLines(change: ShapeChange, periodStart: string, periodEnd: string): InvoiceLineDraft[] {
  const currency = change.after.plan.currency;
  const before = byKey(fixedComponents(change.before.plan, change.before.seats, change.before.addOns));
  const after = byKey(fixedComponents(change.after.plan, change.after.seats, change.after.addOns));
  const lines: InvoiceLineDraft[] = [];
  const covers = { coversStart: change.effectiveAt, coversEnd: periodEnd };
  const prorated = (c: FixedComponent) => prorate(c.cost, change.effectiveAt, periodEnd, periodStart, periodEnd);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(key);
    const is = after.get(key);
    if (was && is && was.cost.eq(is.cost)) continue;
    const common = { kind: 'proration' as const, priceKey: key, meter: null, ...covers, provenance: { change: change.effectiveAt }, pushToStripe: false };
    if (was && !was.cost.isZero()) {
      lines.push(line(currency, { ...common, description: `Unused time on ${was.description}`, planVersionId: change.before.plan.id, quantity: new Dec(was.stripeQuantity), amountExact: prorated(was).neg() }));
    }
    if (is && !is.cost.isZero()) {
      lines.push(line(currency, { ...common, description: `Remaining time on ${is.description}`, planVersionId: change.after.plan.id, quantity: new Dec(is.stripeQuantity), amountExact: prorated(is) }));
    }
  }
  return lines;
}

/** Every line of the period's invoice, in a stable order: prorations, fixed fees, usage, adjustments. */
export function periodLines(input: PeriodInputs): InvoiceLineDraft[] {
  const currency = input.end.plan.currency;
  const lines: InvoiceLineDraft[] = [];

  // Prorations: for each change, credit the unused time of what was, charge the rest of what is.
  for (const change of input.changes) lines.push(...prorationLines(change, input.periodStart, input.periodEnd));

  // Fixed fees of the next period, in advance, as Stripe's renewal invoice charges them.
  if (input.nextPeriodEnd !== null) {
    for (const c of fixedComponents(input.end.plan, input.end.seats, input.end.addOns)) {
      lines.push(
        line(currency, {
          kind: 'fixed',
          description: c.description,
          planVersionId: input.end.plan.id,
          priceKey: c.key,
          meter: null,
          quantity: new Dec(c.stripeQuantity),
          amountExact: c.cost,
          coversStart: input.periodEnd,
          coversEnd: input.nextPeriodEnd,
          provenance: {},
          pushToStripe: false,
        }),
      );
    }
  }

  // Usage of the period, in arrears, per price of the plan version.
  const rated = rateUsage(input.usage.plan.usagePrices, input.usage.counters);
  for (const l of rated.lines) {
    lines.push(
      line(currency, {
        kind: 'usage',
        description: l.price.displayName,
        planVersionId: input.usage.plan.id,
        priceKey: l.price.key,
        meter: l.price.meter,
        quantity: l.rating.quantity,
        amountExact: l.rating.amount,
        coversStart: input.periodStart,
        coversEnd: input.periodEnd,
        // The period's counters this line rated (usage_counters of its billing period with these dimensions).
        provenance: {
          dimensions: l.dimensions,
          included: l.rating.included.toFixed(),
          billable: l.rating.billable.toFixed(),
          pieces: l.rating.pieces,
        },
        pushToStripe: true,
      }),
    );
  }

  // Late usage of earlier, closed periods: the difference it makes to what they were charged.
  for (const adj of input.adjustments) {
    const byPrice = new Map<string, { price: UsagePrice; delta: Dec; adjustmentIds: string[]; eventIds: string[] }>();
    for (const c of adj.counters) {
      const price = selectPrice(adj.plan.usagePrices, c.meter, c.dimensions);
      if (!price) continue;
      const acc = byPrice.get(price.key) ?? { price, delta: new Dec(0), adjustmentIds: [], eventIds: [] };
      acc.delta = acc.delta.plus(c.quantity);
      acc.adjustmentIds.push(c.adjustmentId);
      acc.eventIds.push(...c.eventIds);
      byPrice.set(price.key, acc);
    }
    for (const { price, delta, adjustmentIds, eventIds } of byPrice.values()) {
      const invoiced = new Dec(adj.invoicedQuantity[price.key] ?? '0');
      const amount = rateUsagePrice(price, invoiced.plus(delta)).amount.minus(rateUsagePrice(price, invoiced).amount);
      lines.push(
        line(currency, {
          kind: 'adjustment',
          description: `${price.displayName}: late usage of the period from ${adj.correctsPeriodStart}`,
          planVersionId: adj.plan.id,
          priceKey: price.key,
          meter: price.meter,
          quantity: delta,
          amountExact: amount,
          coversStart: adj.correctsPeriodStart,
          coversEnd: input.periodStart,
          provenance: { correctsPeriodStart: adj.correctsPeriodStart, invoicedQuantity: invoiced.toFixed(), adjustmentIds, eventIds },
          pushToStripe: true,
        }),
      );
    }
  }
  return lines;
}

/** Σ cents: the total Stripe's invoice must show. */
export function totalCents(lines: readonly InvoiceLineDraft[]): bigint {
  return lines.reduce((t, l) => t + l.amountCents, 0n);
}
