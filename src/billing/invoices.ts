/**
 * Internal invoices and their lines: written once per subscription period (idempotent by
 * (subscription, period start)), read by the api, reconciled against Stripe's total, marked paid.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../shared/db.js';
import { notFound } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { formatMinor, LEDGER_SCALE, STRIPE_SCALE } from '../shared/money.js';
import type { InvoiceLineDraft } from './period-lines.js';

export type InvoiceStatus = 'draft' | 'issued' | 'awaiting_payment' | 'paid' | 'past_due' | 'uncollectible' | 'mismatch' | 'void';

/** Deterministic: the same period always gets the same invoice id, in every retry and replay. */
export function invoiceIdFor(subscriptionId: string, periodStart: string): string {
  return `inv_${createHash('sha256').update(`${subscriptionId}|${new Date(periodStart).toISOString()}`).digest('hex').slice(0, 24)}`;
}

export interface InvoiceRow {
  id: string;
  team_id: string;
  subscription_id: string;
  period_start: Date;
  period_end: Date;
  currency: string;
  status: InvoiceStatus;
  total_minor: bigint;
  total_cents: bigint;
  stripe_invoice_id: string | null;
  stripe_total_cents: bigint | null;
  ledger_transaction_id: string | null;
  workflow_id: string;
  created_at: Date;
  paid_at: Date | null;
}

export interface LineRow {
  line_no: number;
  kind: InvoiceLineDraft['kind'];
  description: string;
  plan_version_id: string;
  price_key: string | null;
  meter: string | null;
  quantity: string;
  amount_exact: string;
  amount_minor: bigint;
  amount_cents: bigint;
  covers_start: Date;
  covers_end: Date;
  provenance: Record<string, unknown>;
  stripe_invoice_item_id: string | null;
  push_to_stripe: boolean;
}

/** Writes the invoice and its lines unless the period's invoice exists; returns the stored one. */
export async function writeInvoice(
  tx: Queryable,
  invoice: { id: string; teamId: string; subscriptionId: string; periodStart: string; periodEnd: string; currency: string; workflowId: string; lines: InvoiceLineDraft[] },
): Promise<{ row: InvoiceRow; lines: LineRow[]; created: boolean }> {
  const totalMinor = invoice.lines.reduce((t, l) => t + l.amountMinor, 0n);
  const totalCents = invoice.lines.reduce((t, l) => t + l.amountCents, 0n);
  const inserted = await tx`
    insert into invoices (id, team_id, subscription_id, period_start, period_end, currency, status, total_minor, total_cents, workflow_id)
    values (${invoice.id}, ${invoice.teamId}, ${invoice.subscriptionId}, ${invoice.periodStart}, ${invoice.periodEnd}, ${invoice.currency},
            'draft', ${totalMinor}, ${totalCents}, ${invoice.workflowId})
    on conflict (subscription_id, period_start) do nothing
    returning id`;
  if (inserted.length > 0 && invoice.lines.length > 0) {
    await tx`insert into invoice_lines ${tx(
      invoice.lines.map((l, i) => ({
        invoice_id: invoice.id,
        line_no: i + 1,
        kind: l.kind,
        description: l.description,
        plan_version_id: l.planVersionId,
        price_key: l.priceKey,
        meter: l.meter,
        quantity: l.quantity.toFixed(),
        amount_exact: l.amountExact.toFixed(),
        amount_minor: l.amountMinor,
        amount_cents: l.amountCents,
        covers_start: l.coversStart,
        covers_end: l.coversEnd,
        provenance: tx.json(l.provenance as never),
        push_to_stripe: l.pushToStripe,
      })),
    )}`;
  }
  const { row, lines } = await loadInvoice(tx, invoice.id);
  return { row, lines, created: inserted.length > 0 };
}

export async function loadInvoice(sql: Queryable, invoiceId: string): Promise<{ row: InvoiceRow; lines: LineRow[] }> {
  const [row] = await sql<InvoiceRow[]>`select * from invoices where id = ${invoiceId}`;
  if (!row) throw notFound(`Invoice ${invoiceId}`);
  const lines = await sql<LineRow[]>`
    select line_no, kind, description, plan_version_id, price_key, meter, quantity, amount_exact, amount_minor, amount_cents,
           covers_start, covers_end, provenance, stripe_invoice_item_id, push_to_stripe
    from invoice_lines where invoice_id = ${invoiceId} order by line_no`;
  return { row, lines };
}

export interface InvoiceView {
  invoiceId: string;
  teamId: string;
  subscriptionId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  status: InvoiceStatus;
  /** Decimal strings in major units: the exact total (ledger scale) and what Stripe charges. */
  total: string;
  totalCharged: string;
  stripeInvoiceId: string | null;
  ledgerTransactionId: string | null;
  createdAt: string;
  paidAt: string | null;
  lines?: InvoiceLineView[];
}

export interface InvoiceLineView {
  lineNo: number;
  kind: InvoiceLineDraft['kind'];
  description: string;
  planVersionId: string;
  priceKey: string | null;
  meter: string | null;
  /** The dimension sets (e.g. provider and model) whose usage a usage line rates; null for fixed fees. */
  dimensions: Record<string, string>[] | null;
  quantity: string;
  amountExact: string;
  /** At ledger scale (USD: 6 decimals), half-even. */
  amount: string;
  /** Rounded to cents, half-up: what the line costs on the Stripe invoice. */
  amountCharged: string;
  coversStart: string;
  coversEnd: string;
  provenance: Record<string, unknown>;
  stripeInvoiceItemId: string | null;
  ledgerTransactionId: string | null;
}

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
  const rows = await sql<InvoiceRow[]>`
    select * from invoices
    where team_id = ${teamId} ${opts.before ? sql`and period_start < ${opts.before}` : sql``}
    order by period_start desc, id
    limit ${limit + 1}`;
  const page = rows.slice(0, limit);
  return { invoices: page.map((r) => invoiceView(r)), next: rows.length > limit ? page[page.length - 1]!.period_start.toISOString() : null };
}
