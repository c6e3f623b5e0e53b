/**
 * The one owner of `invoices` and `invoice_lines`: every statement on them is here. An invoice is
 * written once per subscription period (idempotent by (subscription, period start)), then only its
 * Stripe invoice, reconciliation, ledger transaction and status change.
 */
import type { Queryable } from '../shared/db.js';
import { notFound } from '../shared/errors.js';
import type { InvoiceLineDraft } from './period-lines.js';

export type InvoiceStatus = 'draft' | 'issued' | 'awaiting_payment' | 'paid' | 'past_due' | 'uncollectible' | 'mismatch' | 'void';

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

export async function teamInvoiceRows(sql: Queryable, teamId: string, page: { limit: number; before?: string | undefined }): Promise<InvoiceRow[]> {
  // Cursor: the period start of the last invoice of the previous page (newest first).
  return sql<InvoiceRow[]>`
    select * from invoices
    where team_id = ${teamId} ${page.before ? sql`and period_start < ${page.before}` : sql``}
    order by period_start desc, id
    limit ${page.limit}`;
}

/** The workflow (period close) that carries the Stripe invoice, if any. */
export async function closeOfStripeInvoice(sql: Queryable, stripeInvoiceId: string): Promise<string | null> {
  const [row] = await sql<{ workflow_id: string }[]>`select workflow_id from invoices where stripe_invoice_id = ${stripeInvoiceId}`;
  return row?.workflow_id ?? null;
}

/** The Stripe invoice carrying the period and the item of each pushed line; the first recorded stays. */
export async function recordStripeInvoice(
  tx: Queryable,
  input: { invoiceId: string; stripeInvoiceId: string; items: { lineNo: number; stripeInvoiceItemId: string }[] },
): Promise<void> {
  await tx`
    update invoices set stripe_invoice_id = ${input.stripeInvoiceId}, status = 'issued', updated_at = now()
    where id = ${input.invoiceId} and stripe_invoice_id is null`;
  for (const item of input.items) {
    await tx`
      update invoice_lines set stripe_invoice_item_id = ${item.stripeInvoiceItemId}
      where invoice_id = ${input.invoiceId} and line_no = ${item.lineNo} and stripe_invoice_item_id is null`;
  }
}

/** Stripe's total and the outcome of comparing it with ours; a paid or settled invoice keeps its status. */
export async function recordReconciliation(sql: Queryable, invoiceId: string, stripeTotalCents: bigint, matched: boolean): Promise<void> {
  await sql`
    update invoices set stripe_total_cents = ${stripeTotalCents}, status = ${matched ? 'awaiting_payment' : 'mismatch'}, updated_at = now()
    where id = ${invoiceId} and status in ('draft', 'issued', 'mismatch', 'awaiting_payment')`;
}

export async function markPaid(tx: Queryable, invoiceId: string, paidAt: string): Promise<void> {
  await tx`update invoices set status = 'paid', paid_at = ${paidAt}, updated_at = now() where id = ${invoiceId} and status <> 'paid'`;
}

/** `unlessPaid`: a dunning move never takes a paid invoice back. */
export async function setInvoiceStatus(sql: Queryable, invoiceId: string, status: InvoiceStatus, opts: { unlessPaid?: boolean } = {}): Promise<void> {
  if (opts.unlessPaid) await sql`update invoices set status = ${status}, updated_at = now() where id = ${invoiceId} and status <> 'paid'`;
  else await sql`update invoices set status = ${status}, updated_at = now() where id = ${invoiceId}`;
}

export async function setLedgerTransaction(tx: Queryable, invoiceId: string, transactionId: string): Promise<void> {
  await tx`update invoices set ledger_transaction_id = ${transactionId}, updated_at = now() where id = ${invoiceId}`;
}

/**
 * What the team's invoices charged per price for the usage of the period starting at `periodStart`:
 * its usage lines plus the adjustments that corrected it since.
 */
export async function invoicedUsage(sql: Queryable, teamId: string, periodStart: Date): Promise<{ price_key: string; plan_version_id: string; quantity: string }[]> {
  return sql<{ price_key: string; plan_version_id: string; quantity: string }[]>`
    select l.price_key, min(l.plan_version_id) as plan_version_id, sum(l.quantity)::text as quantity
    from invoice_lines l join invoices i on i.id = l.invoice_id
    where i.team_id = ${teamId}
      and ((l.kind = 'usage' and i.period_start = ${periodStart})
        or (l.kind = 'adjustment' and l.provenance ->> 'correctsPeriodStart' = ${periodStart.toISOString()}))
    group by l.price_key`;
}

/** The lines we pushed onto the Stripe invoice, in order. */
export async function pushedLines(sql: Queryable, invoiceId: string): Promise<{ description: string; amount_cents: bigint }[]> {
  return sql<{ description: string; amount_cents: bigint }[]>`
    select description, amount_cents from invoice_lines where invoice_id = ${invoiceId} and stripe_invoice_item_id is not null order by line_no`;
}

/** Invoice statuses a local Stripe command may still act on. */
const OPEN_STATUSES = ['draft', 'issued', 'awaiting_payment', 'past_due', 'mismatch'];

/** An invoice a local Stripe tool names: Stripe's id (in_…) or ours (inv_…), else the oldest open one of a subscription (sub_…) or team. */
export async function invoiceByReference(sql: Queryable, ref: string): Promise<InvoiceRow | null> {
  const where = ref.startsWith('in_')
    ? sql`stripe_invoice_id = ${ref}`
    : ref.startsWith('inv_')
      ? sql`id = ${ref}`
      : ref.startsWith('sub_')
        ? sql`subscription_id = ${ref} and status = any(${OPEN_STATUSES})`
        : sql`team_id = ${ref} and status = any(${OPEN_STATUSES})`;
  const [row] = await sql<InvoiceRow[]>`select * from invoices where ${where} order by period_start limit 1`;
  return row ?? null;
}
