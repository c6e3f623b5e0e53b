/**
 * Posts an invoice to the ledger once: the receivable, revenue per app (a usage line's revenue split
 * over the apps that reported its usage, exactly, by quantity), and the rounding difference.
 */
import type { TxSql } from '../shared/db.js';
import { Dec } from '../shared/money.js';
import { postTransaction } from '../ledger/post.js';
import { invoicePosting, PLATFORM_APP, splitByWeights, type LedgerLine } from './invoice-ledger.js';
import { loadInvoice, setLedgerTransaction } from './invoice-store.js';

export async function postInvoice(tx: TxSql, invoiceId: string): Promise<void> {
  const { row, lines } = await loadInvoice(tx, invoiceId);
  if (row.ledger_transaction_id) return;
  const perApp = await tx<{ app_id: string; meter: string; dimensions: Record<string, string>; quantity: string }[]>`
    select d.app_id, d.meter, d.dimensions, sum(d.quantity)::text as quantity
    from usage_daily d join billing_periods p on p.id = d.period_id
    where p.team_id = ${row.team_id} and p.period_end = ${row.period_end} and p.source = 'explicit'
    group by d.app_id, d.meter, d.dimensions`;
  const ledgerLines: LedgerLine[] = lines.map((l) => {
    const dims = new Set(((l.provenance as { dimensions?: Record<string, string>[] }).dimensions ?? []).map((d) => JSON.stringify(d)));
    const weights = new Map<string, bigint>();
    if (l.kind === 'usage') {
      for (const u of perApp) {
        if (u.meter !== l.meter || !dims.has(JSON.stringify(u.dimensions))) continue;
        // Quantities are exact decimals; scaled to integers (micro-units) for an exact split.
        weights.set(u.app_id, (weights.get(u.app_id) ?? 0n) + BigInt(new Dec(u.quantity).times(1_000_000).toFixed(0)));
      }
    }
    return {
      lineNo: l.line_no,
      amountMinor: l.amount_minor,
      amountCents: l.amount_cents,
      appShares: weights.size > 0 ? splitByWeights(l.amount_minor, weights) : { [PLATFORM_APP]: l.amount_minor },
    };
  });
  const request = invoicePosting({ invoiceId: row.id, teamId: row.team_id, currency: row.currency, issuedAt: row.period_end, workflowId: row.workflow_id, lines: ledgerLines });
  if (!request) return;
  const posted = await postTransaction(tx, request);
  await setLedgerTransaction(tx, row.id, posted.transactionId);
}
