/**
 * Internal invoices as the api shows them, and the id of each period's invoice. The rows are written
 * once per subscription period, reconciled against Stripe's total and marked paid by
 * src/billing/invoice-store.ts, their one owner.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../shared/db.js';
import { notFound } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { formatMinor, LEDGER_SCALE, STRIPE_SCALE } from '../shared/money.js';
import { loadInvoice, teamInvoiceRows, type InvoiceRow, type InvoiceStatus, type LineRow } from './invoice-store.js';
import type { Invoice as SdkInvoice, InvoiceLine as SdkInvoiceLine } from '../../sdk/src/types.js';

export type { InvoiceStatus } from './invoice-store.js';

/** Deterministic: the same period always gets the same invoice id, in every retry and replay. */
export function invoiceIdFor(subscriptionId: string, periodStart: string): string {
  return `inv_${createHash('sha256').update(`${subscriptionId}|${new Date(periodStart).toISOString()}`).digest('hex').slice(0, 24)}`;
}

/**
 * An invoice and its lines as the api shows them. The SDK's types are the one definition of these
 * wire shapes (test/types/sdk-contract.ts holds the api's schemas to them); the server's view only
 * narrows the status to its vocabulary.
 */
export interface InvoiceView extends Omit<SdkInvoice, 'status'> {
  status: InvoiceStatus;
}

export type InvoiceLineView = SdkInvoiceLine;

export function invoiceView(row: InvoiceRow, lines?: LineRow[]): InvoiceView {
  const ls = LEDGER_SCALE[row.currency]!;
  const ss = STRIPE_SCALE[row.currency]!;
  return {
    invoiceId: row.id,
    teamId: row.team_id,
    subscriptionId: row.subscription_id,
    periodStart: row.period_start.toISOString(),
    periodEnd: row.period_end.toISOString(),
    currency: row.currency,
    status: row.status,
    total: formatMinor(row.total_minor, ls),
    totalCharged: formatMinor(row.total_cents, ss),
    stripeInvoiceId: row.stripe_invoice_id,
    ledgerTransactionId: row.ledger_transaction_id,
    createdAt: row.created_at.toISOString(),
    paidAt: row.paid_at?.toISOString() ?? null,
    ...(lines
      ? {
          lines: lines.map((l) => ({
            lineNo: l.line_no,
            kind: l.kind,
            description: l.description,
            planVersionId: l.plan_version_id,
            priceKey: l.price_key,
            meter: l.meter,
            dimensions: (l.provenance.dimensions as Record<string, string>[] | undefined) ?? null,
            quantity: l.quantity,
            amountExact: l.amount_exact,
            amount: formatMinor(l.amount_minor, ls),
            amountCharged: formatMinor(l.amount_cents, ss),
            coversStart: l.covers_start.toISOString(),
            coversEnd: l.covers_end.toISOString(),
            provenance: l.provenance,
            stripeInvoiceItemId: l.stripe_invoice_item_id,
            // Every line of an invoice is carried by the invoice's one ledger transaction.
            ledgerTransactionId: row.ledger_transaction_id,
          })),
        }
      : {}),
  };
}

export async function getTeamInvoice(sql: Queryable, teamId: string, invoiceId: string): Promise<InvoiceView> {
  const { row, lines } = await loadInvoice(sql, invoiceId);
  if (row.team_id !== teamId) throw notFound(`Invoice ${invoiceId}`);
  return invoiceView(row, lines);
}

export async function listTeamInvoices(
  sql: Queryable,
  teamId: string,
  opts: { limit?: number; before?: string },
): Promise<{ invoices: InvoiceView[]; next: string | null }> {
  const limit = Math.min(opts.limit ?? LIMITS.pageSizeDefault, LIMITS.pageSizeMax);
  // Cursor: the period start of the last invoice of the previous page (newest first).
  const rows = await teamInvoiceRows(sql, teamId, { limit: limit + 1, before: opts.before });
  const page = rows.slice(0, limit);
  return { invoices: page.map((r) => invoiceView(r)), next: rows.length > limit ? page[page.length - 1]!.period_start.toISOString() : null };
}
