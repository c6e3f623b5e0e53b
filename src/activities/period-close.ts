/** Postgres activities of closeBillingPeriod: one transaction each, idempotent by invoice. */
import { inTransaction } from '../shared/db.js';
import { postTransaction } from '../ledger/post.js';
import { paymentPosting } from '../billing/invoice-ledger.js';
import { loadInvoice, type InvoiceStatus } from '../billing/invoices.js';
import { invoicePeriod, type RatedInvoice, type RatePeriodInput } from '../billing/rate-period.js';
import type { SubscriptionStatus } from '../workflows/subscription-messages.js';
import type { ActivityDeps } from './deps.js';
import { activity } from './failures.js';

export interface Reconciliation {
  matched: boolean;
  invoiceId: string;
  stripeInvoiceId: string;
  internalTotalCents: string;
  stripeTotalCents: string;
}

export function createPeriodCloseActivities({ sql }: ActivityDeps) {
  return {
    /** Closes the usage period, rates it, writes the invoice and posts it: one transaction, once. */
    invoicePeriod: activity(async (input: RatePeriodInput): Promise<RatedInvoice> => invoicePeriod(sql, input)),

    /** The Stripe invoice carrying the period and the item of each pushed line; from now on its events route here. */
    recordStripeInvoice: activity(
      async (input: { invoiceId: string; stripeInvoiceId: string; items: { lineNo: number; stripeInvoiceItemId: string }[] }): Promise<void> => {
        await inTransaction(sql, async (tx) => {
          await tx`
            update invoices set stripe_invoice_id = ${input.stripeInvoiceId}, status = 'issued', updated_at = now()
            where id = ${input.invoiceId} and stripe_invoice_id is null`;
          for (const item of input.items) {
            await tx`
              update invoice_lines set stripe_invoice_item_id = ${item.stripeInvoiceItemId}
              where invoice_id = ${input.invoiceId} and line_no = ${item.lineNo} and stripe_invoice_item_id is null`;
          }
        });
      },
    ),

    /** Stripe's total must equal ours to the cent; either way the outcome is recorded on the invoice. */
    reconcileInvoice: activity(async (input: { invoiceId: string; stripeInvoiceId: string; stripeTotalCents: string }): Promise<Reconciliation> => {
      const { row } = await loadInvoice(sql, input.invoiceId);
      const matched = row.total_cents === BigInt(input.stripeTotalCents);
      await sql`
        update invoices set stripe_total_cents = ${BigInt(input.stripeTotalCents)}, status = ${matched ? 'awaiting_payment' : 'mismatch'}, updated_at = now()
        where id = ${input.invoiceId} and status in ('draft', 'issued', 'mismatch', 'awaiting_payment')`;
      return { matched, invoiceId: row.id, stripeInvoiceId: input.stripeInvoiceId, internalTotalCents: row.total_cents.toString(), stripeTotalCents: input.stripeTotalCents };
    }),

    recordInvoicePayment: activity(async (input: { invoiceId: string; stripeEventId: string; amountPaidCents: string; paidAt: string }): Promise<void> => {
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
        await tx`update invoices set status = 'paid', paid_at = ${input.paidAt}, updated_at = now() where id = ${row.id} and status <> 'paid'`;
      });
    }),

    setInvoiceStatus: activity(async (input: { invoiceId: string; status: InvoiceStatus }): Promise<void> => {
      await sql`update invoices set status = ${input.status}, updated_at = now() where id = ${input.invoiceId}`;
    }),

    /** Dunning moves: the invoice past due, the subscription past due or restricted, and back. */
    setBillingStatus: activity(
      async (input: { invoiceId: string; invoiceStatus: InvoiceStatus; subscriptionId: string; subscriptionStatus: SubscriptionStatus }): Promise<void> => {
        await inTransaction(sql, async (tx) => {
          await tx`update invoices set status = ${input.invoiceStatus}, updated_at = now() where id = ${input.invoiceId} and status <> 'paid'`;
          await tx`
            update subscriptions set status = ${input.subscriptionStatus}, updated_at = now()
            where id = ${input.subscriptionId} and status in ('active', 'past_due', 'restricted')`;
        });
      },
    ),
  };
}
