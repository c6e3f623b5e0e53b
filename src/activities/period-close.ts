/** Postgres activities of closeBillingPeriod: thin adapters over src/billing (one transaction each, idempotent by invoice). */
import { attachStripeInvoice, reconcileInvoice, recordInvoicePayment, setBillingStatus, type Reconciliation } from '../billing/invoice-lifecycle.js';
import { setInvoiceStatus, type InvoiceStatus } from '../billing/invoice-store.js';
import { invoicePeriod, type RatedInvoice, type RatePeriodInput } from '../billing/rate-period.js';
import type { DbActivityDeps } from './deps.js';
import { activity } from './failures.js';

export type { Reconciliation } from '../billing/invoice-lifecycle.js';

export function createPeriodCloseActivities({ sql }: DbActivityDeps) {
  return {
    /** Closes the usage period, rates it, writes the invoice and posts it: one transaction, once. */
    invoicePeriod: activity(async (input: RatePeriodInput): Promise<RatedInvoice> => invoicePeriod(sql, input)),

    /** The Stripe invoice carrying the period and the item of each pushed line; from now on its events route here. */
    recordStripeInvoice: activity(
      async (input: { invoiceId: string; stripeInvoiceId: string; items: { lineNo: number; stripeInvoiceItemId: string }[] }): Promise<void> => attachStripeInvoice(sql, input),
    ),

    /** Stripe's total must equal ours to the cent; either way the outcome is recorded on the invoice. */
    reconcileInvoice: activity(async (input: { invoiceId: string; stripeInvoiceId: string; stripeTotalCents: string }): Promise<Reconciliation> => reconcileInvoice(sql, input)),

    recordInvoicePayment: activity(async (input: { invoiceId: string; stripeEventId: string; amountPaidCents: string; paidAt: string }): Promise<void> =>
      recordInvoicePayment(sql, input),
    ),

    setInvoiceStatus: activity(async (input: { invoiceId: string; status: InvoiceStatus }): Promise<void> => setInvoiceStatus(sql, input.invoiceId, input.status)),

    /** Dunning moves: the invoice past due, the subscription past due or restricted, and back. */
    setBillingStatus: activity(async (input: Parameters<typeof setBillingStatus>[1]): Promise<void> => setBillingStatus(sql, input)),
  };
}
