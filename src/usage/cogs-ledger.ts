/**
 * COGS into the ledger for the period operations (carried-over and trimmed gauges), inside the
 * caller's transaction, through the same usage_post_cogs() that ingest uses (sql/00006).
 */
import type { TxSql } from '../shared/db.js';
import { cogsAccountsArgument } from './cogs-posting.js';

/** A cost row of usage_seed_gauges / usage_trim_period / usage_ensure_periods. */
export interface CostRow {
  counter_id: bigint;
  team: string;
  period_id: bigint;
  meter: string;
  d: Record<string, string>;
  c0: string;
  c1: string;
}

/** Posts the cost rows of a period operation; returns the posting number, or null when nothing moved. */
export async function postCostRows(tx: TxSql, rows: readonly CostRow[], actor: string, effectiveAt: Date): Promise<bigint | null> {
  const costed = rows.filter((r) => r.d.provider !== undefined && r.c0 !== r.c1);
  if (costed.length === 0) return null;
  const costs = costed.map((r) => ({ counter_id: r.counter_id.toString(), team: r.team, period_id: r.period_id.toString(), meter: r.meter, d: r.d, c0: r.c0, c1: r.c1 }));
  const [row] = await tx<{ seq: bigint | null }[]>`
    select usage_post_cogs(
      array(select row(c.counter_id, c.team, c.period_id, c.meter, c.d, c.c0, c.c1)::usage_ingest_cost
            from rows from (jsonb_to_recordset(${JSON.stringify(costs)}::text::jsonb)
                            as (counter_id bigint, team text, period_id bigint, meter text, d jsonb, c0 numeric, c1 numeric))
                 with ordinality as c(counter_id, team, period_id, meter, d, c0, c1, ord)
            order by c.ord),
      ${cogsAccountsArgument(costed.map((r) => r.d.provider!))}::text::jsonb, ${actor}, ${effectiveAt}) as seq`;
  return row!.seq;
}
