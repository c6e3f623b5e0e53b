/**
 * The COGS ledger posting of one ingested batch. Pure: cost changes in, ledger requests out.
 *
 * Rounding by difference: a counter keeps its exact cumulative cost; each batch posts
 * round(after) − round(before) in micro-dollars (half-even), so whatever the batches, the postings
 * of a counter sum to round(its exact total) and no rounding error accumulates.
 *
 * One ledger transaction per batch, amounts netted per provider: debit `cogs:<provider>`, credit
 * `payable:<provider>` (the other way round when a gauge correction lowered a cost). A batch holds
 * many teams, so its legs go to one account shard chosen by the batch (its posting number), not by
 * team: concurrent batches then spread over the shards instead of all waiting on every shard. Per-team
 * COGS lives in the counters and rollups; the ledger holds the provider totals. Split only if it
 * would exceed LIMITS.ledgerLegsPerTransactionMax.
 */
import { providerCogs, providerPayable } from '../ledger/accounts.js';
import type { Leg, PostRequest } from '../ledger/contract.js';
import { LIMITS } from '../shared/limits.js';
import { ledgerScale, toMinor } from '../shared/money.js';
import type { CostChange } from './usage-store.js';

export const COGS_CURRENCY = 'USD';
export const COGS_POSTING_SCOPE = 'usage-cogs';

const SCALE = ledgerScale(COGS_CURRENCY);

/** What a counter's move from `before` to `after` posts, in minor units; may be negative. */
export function roundedDeltaMinor(before: string, after: string): bigint {
  return toMinor(after, SCALE) - toMinor(before, SCALE);
}

export interface CogsPostingContext {
  appId: string;
  /** From usage_cogs_posting_seq: unique per posting, so it makes the idempotency key. */
  postingSeq: bigint;
  effectiveAt: Date;
}

/** The batch's posting (usually one request), or none when every rounded difference is zero. */
export function buildCogsPostings(changes: readonly CostChange[], ctx: CogsPostingContext): PostRequest[] {
  const net = new Map<string, bigint>();
  for (const change of changes) {
    net.set(change.provider, (net.get(change.provider) ?? 0n) + roundedDeltaMinor(change.costBefore, change.costAfter));
  }
  const key = `cogs:${ctx.postingSeq}`;
  const pairs: Leg[][] = [];
  for (const [provider, amountMinor] of [...net].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (amountMinor === 0n) continue;
    const cogs = providerCogs(provider, COGS_CURRENCY);
    const payable = providerPayable(provider, COGS_CURRENCY);
    const amount = amountMinor > 0n ? amountMinor : -amountMinor;
    const [debit, credit] = amountMinor > 0n ? [cogs, payable] : [payable, cogs];
    pairs.push([
      { account: debit, side: 'debit', amountMinor: amount, shardKey: key },
      { account: credit, side: 'credit', amountMinor: amount, shardKey: key },
    ]);
  }
  const pairsPerRequest = Math.floor(LIMITS.ledgerLegsPerTransactionMax / 2);
  const requests: PostRequest[] = [];
  for (let i = 0; i < pairs.length; i += pairsPerRequest) {
    const part = requests.length;
    requests.push({
      scope: COGS_POSTING_SCOPE,
      idempotencyKey: part === 0 ? key : `${key}:${part}`,
      code: 'cogs_accrual',
      effectiveAt: ctx.effectiveAt,
      legs: pairs.slice(i, i + pairsPerRequest).flat(),
      metadata: { appId: ctx.appId, counters: changes.length },
    });
  }
  return requests;
}
