/**
 * COGS into the ledger, inside the caller's transaction: the cost changes of a batch (or of carried
 * and trimmed gauges) become ledger postings by rounding by difference (cogs-posting.ts).
 */
import { postTransactions } from '../ledger/post.js';
import type { TxSql } from '../shared/db.js';
import { buildCogsPostings, type CogsPostingContext } from './cogs-posting.js';
import type { CostChange } from './usage-store.js';

/** Posts a batch's cost changes. COGS accounts have no limits, so the ledger cannot reject them. */
export async function postCogs(tx: TxSql, changes: readonly CostChange[], ctx: CogsPostingContext): Promise<void> {
  const requests = buildCogsPostings(changes, ctx);
  if (requests.length > 0) await postTransactions(tx, requests);
}

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

/** Posts the cost rows of a period operation, numbered from usage_cogs_posting_seq. */
export async function postCostRows(tx: TxSql, rows: readonly CostRow[], actor: string, effectiveAt: Date): Promise<void> {
  // Only counters with a provider are costed (the others have no cost rate).
  const changes: CostChange[] = rows
    .filter((r) => r.d.provider !== undefined && r.c0 !== r.c1)
    .map((r) => ({ counterId: r.counter_id, teamId: r.team, periodId: r.period_id, meter: r.meter, provider: r.d.provider!, model: r.d.model ?? null, costBefore: r.c0, costAfter: r.c1 }));
  if (changes.length === 0) return;
  const [seq] = await tx<{ n: bigint }[]>`select nextval('usage_cogs_posting_seq') as n`;
  await postCogs(tx, changes, { appId: actor, postingSeq: seq!.n, effectiveAt });
}
