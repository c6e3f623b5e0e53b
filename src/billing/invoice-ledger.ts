/**
 * Ledger postings of invoices, built purely from their lines. An invoice debits the team's receivable
 * with exactly what Stripe charges (Σ cents), credits revenue per app with each line's exact amount
 * (micro-units), and puts the difference between the two roundings on the rounding account,
 * explicitly. A payment moves the paid amount from the receivable to Stripe clearing.
 */
import { appRevenue, rounding, stripeClearing, teamReceivable } from '../ledger/accounts.js';
import type { Leg, PostRequest } from '../ledger/contract.js';
import { LEDGER_SCALE, STRIPE_SCALE } from '../shared/money.js';

/** Revenue of fixed fees, which belong to the subscription rather than to one app. */
export const PLATFORM_APP = 'platform';

export interface LedgerLine {
  lineNo: number;
  amountMinor: bigint;
  amountCents: bigint;
  /** Share of the line per app (sums to amountMinor); fixed lines go to PLATFORM_APP. */
  appShares: Record<string, bigint>;
}

export function centsToMinor(cents: bigint, currency: string): bigint {
  return cents * 10n ** BigInt(LEDGER_SCALE[currency]! - STRIPE_SCALE[currency]!);
}

function signedLeg(legs: Leg[], account: Leg['account'], debitPositive: bigint, shardKey: string): void {
  if (debitPositive === 0n) return;
  legs.push({ account, side: debitPositive > 0n ? 'debit' : 'credit', amountMinor: debitPositive > 0n ? debitPositive : -debitPositive, shardKey });
}

export function invoicePosting(invoice: {
  invoiceId: string;
  teamId: string;
  currency: string;
  issuedAt: Date;
  workflowId: string;
  lines: LedgerLine[];
}): PostRequest | null {
  const { teamId, currency } = invoice;
  const receivable = centsToMinor(invoice.lines.reduce((t, l) => t + l.amountCents, 0n), currency);
  const revenue = new Map<string, bigint>();
  for (const l of invoice.lines) for (const [app, amount] of Object.entries(l.appShares)) revenue.set(app, (revenue.get(app) ?? 0n) + amount);
  const legs: Leg[] = [];
  signedLeg(legs, teamReceivable(teamId, currency), receivable, teamId);
  let credited = 0n;
  for (const [app, amount] of [...revenue.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    signedLeg(legs, appRevenue(app, currency), -amount, teamId);
    credited += amount;
  }
  // Rounding is an expense: it absorbs what the customer pays beyond (or short of) the exact revenue.
  signedLeg(legs, rounding(currency), credited - receivable, teamId);
  if (legs.length === 0) return null;
  return {
    scope: 'invoice',
    idempotencyKey: invoice.invoiceId,
    code: 'invoice_issued',
    effectiveAt: invoice.issuedAt,
    legs,
    metadata: { invoiceId: invoice.invoiceId, lines: invoice.lines.length },
    // The activity that posts it: invoicePeriod rates, writes and posts the invoice in one transaction.
    provenance: { workflowId: invoice.workflowId, activity: 'invoicePeriod' },
  };
}

export function paymentPosting(payment: {
  invoiceId: string;
  teamId: string;
  currency: string;
  amountPaidCents: bigint;
  paidAt: Date;
  stripeEventId: string;
}): PostRequest | null {
  const amount = centsToMinor(payment.amountPaidCents, payment.currency);
  if (amount <= 0n) return null;
  return {
    scope: 'invoice-payment',
    idempotencyKey: payment.invoiceId,
    code: 'payment_received',
    effectiveAt: payment.paidAt,
    legs: [
      { account: stripeClearing(payment.currency), side: 'debit', amountMinor: amount, shardKey: payment.teamId },
      { account: teamReceivable(payment.teamId, payment.currency), side: 'credit', amountMinor: amount, shardKey: payment.teamId },
    ],
    metadata: { invoiceId: payment.invoiceId, stripeEventId: payment.stripeEventId },
  };
}

/** Splits `amount` over `weights` exactly (largest remainder), so the shares sum to the amount. */
export function splitByWeights(amount: bigint, weights: ReadonlyMap<string, bigint>): Record<string, bigint> {
  const total = [...weights.values()].reduce((a, b) => a + b, 0n);
  if (total <= 0n || weights.size === 0) return { [PLATFORM_APP]: amount };
  const sign = amount < 0n ? -1n : 1n;
  const abs = amount * sign;
  const entries = [...weights.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const shares = entries.map(([key, w]) => ({ key, base: (abs * w) / total, rem: (abs * w) % total }));
  let left = abs - shares.reduce((t, s) => t + s.base, 0n);
  for (const s of [...shares].sort((a, b) => (b.rem > a.rem ? 1 : b.rem < a.rem ? -1 : a.key < b.key ? -1 : 1))) {
    if (left === 0n) break;
    s.base += 1n;
    left -= 1n;
  }
  return Object.fromEntries(shares.map((s) => [s.key, s.base * sign]));
}
