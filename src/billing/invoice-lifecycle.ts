/**
 * What a period close's Postgres steps do after the invoice is written (rate-period.ts): record the
 * Stripe invoice carrying it, reconcile Stripe's total with ours, record the payment (and post it),
 * and the dunning moves. Each is one transaction and idempotent; the activities
 * (src/activities/period-close.ts) are thin adapters over these.
 */
import { postTransaction } from '../ledger/post.js';
import { inTransaction, type Sql } from '../shared/db.js';
import { setDunningStatus } from '../subscriptions/subscription-store.js';
import type { SubscriptionStatus } from '../workflows/subscription-messages.js';
import { paymentPosting } from './invoice-ledger.js';
import { loadInvoice, markPaid, recordReconciliation, recordStripeInvoice, setInvoiceStatus, type InvoiceStatus } from './invoice-store.js';

export interface Reconciliation {
  matched: boolean;
  invoiceId: string;
  stripeInvoiceId: string;
  internalTotalCents: string;
  stripeTotalCents: string;
}

/** The Stripe invoice carrying the period and the item of each pushed line; from now on its events route to the close. */
export async function attachStripeInvoice(
  sql: Sql,
  input: { invoiceId: string; stripeInvoiceId: string; items: { lineNo: number; stripeInvoiceItemId: string }[] },
): Promise<void> {
  await inTransaction(sql, (tx) => recordStripeInvoice(tx, input));
}

/** Stripe's total must equal ours to the cent; either way the outcome is recorded on the invoice. */
export async function reconcileInvoice(sql: Sql, input: { invoiceId: string; stripeInvoiceId: string; stripeTotalCents: string }): Promise<Reconciliation> {
  const { row } = await loadInvoice(sql, input.invoiceId);
  const matched = row.total_cents === BigInt(input.stripeTotalCents);
  await recordReconciliation(sql, input.invoiceId, BigInt(input.stripeTotalCents), matched);
  return { matched, invoiceId: row.id, stripeInvoiceId: input.stripeInvoiceId, internalTotalCents: row.total_cents.toString(), stripeTotalCents: input.stripeTotalCents };
}

/** Stripe collected the invoice: the payment is posted (clearing against the receivable) and the invoice paid. */
export async function recordInvoicePayment(sql: Sql, input: { invoiceId: string; stripeEventId: string; amountPaidCents: string; paidAt: string }): Promise<void> {
  await inTransaction(sql, async (tx) => {
    const { row } = await loadInvoice(tx, input.invoiceId);
    const request = paymentPosting({
      invoiceId: row.id,
      teamId: row.team_id,
      currency: row.currency,
      amountPaidCents: BigInt(input.amountPaidCents),
      paidAt: new Date(input.paidAt),
      stripeEventId: input.stripeEventId,
    });
    if (request) await postTransaction(tx, request);
    await markPaid(tx, row.id, input.paidAt);
  });
}

/** Dunning moves: the invoice past due, the subscription past due or restricted, and back. */
export async function setBillingStatus(
  sql: Sql,
  input: { invoiceId: string; invoiceStatus: InvoiceStatus; subscriptionId: string; subscriptionStatus: SubscriptionStatus },
): Promise<void> {
  await inTransaction(sql, async (tx) => {
    await setInvoiceStatus(tx, input.invoiceId, input.invoiceStatus, { unlessPaid: true });
    await setDunningStatus(tx, input.subscriptionId, input.subscriptionStatus);
  });
}
