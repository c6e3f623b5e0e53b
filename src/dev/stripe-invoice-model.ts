/**
 * What Stripe would put on a subscription's invoice, computed from Stripe's side of things — the
 * prices as they were created at Stripe, the subscription's items and every update of them, the
 * invoice items pushed onto the invoice — the way Stripe computes it: each item priced from its price
 * (per unit, or tiers), prorations per item by the second, each line rounded to the cent, the total
 * the sum of the lines. Nothing here reads our internal invoice, so a wrong line of ours shows up as
 * a different total and the period close's reconciliation fails, as it would against Stripe.
 *
 * Pure; fed by our own records for the local Stripe tools (stripe-records.ts) and by the recorded
 * requests in tests (test/helpers/stripe-simulator.ts).
 */
import { Dec } from '../shared/money.js';

/** A Stripe price: amounts in cents as exact decimal strings. */
export interface StripePriceDef {
  id: string;
  currency: string;
  unitAmountDecimal: string | null;
  tiersMode: 'graduated' | 'volume' | null;
  tiers: { upTo: number | null; unitAmountDecimal: string; flatAmountDecimal: string }[];
}

/** One item of a Stripe subscription; `key` is its identity across updates (the item id). */
export interface StripeItem {
  key: string;
  priceId: string;
  quantity: number;
}

/** The subscription's items after an update made at `at` (its proration date). */
export interface ItemsChange {
  at: string;
  items: StripeItem[];
}

export interface StripeInvoiceInput {
  prices: ReadonlyMap<string, StripePriceDef>;
  /** The period the invoice closes: the bounds prorations are measured against. */
  periodStart: string;
  periodEnd: string;
  itemsAtStart: StripeItem[];
  /** Updates of the items within [periodStart, periodEnd), oldest first. */
  changes: ItemsChange[];
  /** A renewal charges the items of the next period in advance; a final invoice does not. */
  renews: boolean;
  /** Invoice items added to this invoice (our usage lines), in cents. */
  invoiceItems: { description: string; amountCents: bigint }[];
}

export interface StripeLine {
  kind: 'subscription' | 'proration' | 'invoice_item';
  description: string;
  priceId: string | null;
  quantity: number | null;
  amountCents: bigint;
}

/** A price from the parameters it was created with (the SDK's objects or a decoded form body alike). */
export function priceFromParams(id: string, params: Record<string, unknown>): StripePriceDef {
  const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
  const tiers = (params.tiers as Record<string, unknown>[] | undefined) ?? [];
  return {
    id,
    currency: String(params.currency),
    unitAmountDecimal: str(params.unit_amount_decimal) ?? str(params.unit_amount),
    tiersMode: params.billing_scheme === 'tiered' ? (params.tiers_mode as 'graduated' | 'volume') : null,
    tiers: tiers.map((t) => ({
      upTo: t.up_to === 'inf' ? null : Number(t.up_to),
      unitAmountDecimal: str(t.unit_amount_decimal) ?? str(t.unit_amount) ?? '0',
      flatAmountDecimal: str(t.flat_amount_decimal) ?? str(t.flat_amount) ?? '0',
    })),
  };
}

/** Exact cents of `quantity` of a price for a whole period. */
export function priceAmount(price: StripePriceDef, quantity: number): Dec {
  if (price.tiersMode === null) return new Dec(price.unitAmountDecimal ?? '0').times(quantity);
  if (price.tiersMode === 'volume') {
    const tier = price.tiers.find((t) => t.upTo === null || quantity <= t.upTo) ?? price.tiers[price.tiers.length - 1]!;
    return new Dec(tier.unitAmountDecimal).times(quantity).plus(tier.flatAmountDecimal);
  }
  let amount = new Dec(0);
  let below = 0;
  for (const t of price.tiers) {
    if (quantity <= below) break;
    const inTier = Math.min(quantity, t.upTo ?? quantity) - below;
    amount = amount.plus(new Dec(t.unitAmountDecimal).times(inTier)).plus(t.flatAmountDecimal);
    below = t.upTo ?? quantity;
  }
  return amount;
}

/** Stripe rounds a line to whole cents, halves away from zero. */
export function toCents(exact: Dec): bigint {
  return BigInt(exact.toDecimalPlaces(0, Dec.ROUND_HALF_UP).toFixed(0));
}

/** The lines and total of the invoice, as Stripe would compute them. */
export function stripeInvoice(input: StripeInvoiceInput): { lines: StripeLine[]; totalCents: bigint } {
  const price = (id: string) => {
    const p = input.prices.get(id);
    if (!p) throw new Error(`Stripe has no price ${id}`);
    return p;
  };
  const lines: StripeLine[] = [];
  // Stripe's clock has whole seconds (unix time): prorations are by the second of the period.
  const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const [start, end] = [seconds(input.periodStart), seconds(input.periodEnd)];
  let items = input.itemsAtStart;
  for (const change of input.changes) {
    const fraction = new Dec(end - seconds(change.at)).div(end - start);
    const before = new Map(items.map((i) => [i.key, i]));
    const after = new Map(change.items.map((i) => [i.key, i]));
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const was = before.get(key);
      const is = after.get(key);
      if (was && is && was.priceId === is.priceId && was.quantity === is.quantity) continue;
      if (was) lines.push({ kind: 'proration', description: `Unused time on ${was.quantity} × ${was.priceId}`, priceId: was.priceId, quantity: was.quantity, amountCents: -toCents(priceAmount(price(was.priceId), was.quantity).times(fraction)) });
      if (is) lines.push({ kind: 'proration', description: `Remaining time on ${is.quantity} × ${is.priceId}`, priceId: is.priceId, quantity: is.quantity, amountCents: toCents(priceAmount(price(is.priceId), is.quantity).times(fraction)) });
    }
    items = change.items;
  }
  if (input.renews) {
    for (const i of items) lines.push({ kind: 'subscription', description: `${i.quantity} × ${i.priceId}`, priceId: i.priceId, quantity: i.quantity, amountCents: toCents(priceAmount(price(i.priceId), i.quantity)) });
  }
  for (const item of input.invoiceItems) lines.push({ kind: 'invoice_item', description: item.description, priceId: null, quantity: null, amountCents: item.amountCents });
  return { lines, totalCents: lines.reduce((t, l) => t + l.amountCents, 0n) };
}
