/**
 * The COGS fold. A batch does not post its COGS to the ledger itself: usage_ingest() queues the
 * batch's rounded differences per provider (usage_cogs_queue, in the batch's transaction), and a fold
 * posts everything queued as one ledger transaction and deletes it, in one transaction
 * (usage_fold_cogs, sql/functions/usage-cogs.sql). So a queued difference reaches the ledger exactly
 * once, rounding by difference is unchanged, and the per-batch cost of a ledger posting (a
 * transaction, its legs, its balance rows, its commit-time check) is paid once per fold instead.
 *
 * What lags: only the balances of the cogs:<provider> and payable:<provider> accounts, by at most
 * LIMITS.usageCogsFoldIntervalMs while an api process runs (each folds on that interval and once
 * more when it stops); `npm run cli -- usage fold-cogs` and `POST /admin/usage/cogs-fold` fold on
 * demand. Counters, their exact costs, reports, entitlements and invoices never wait for it;
 * reconcileCogs() counts what is queued.
 */
import type { Queryable, Sql } from '../shared/db.js';
import { LIMITS } from '../shared/limits.js';
import { cogsAccountsArgument } from './cogs-posting.js';

export interface FoldResult {
  /** The ledger posting (cogs:<n>), or null when nothing was queued. */
  postingSeq: bigint | null;
  providers: string[];
}

/** Posts the queued COGS of every provider to the ledger, in one statement (one transaction). */
export async function foldCogs(sql: Queryable, actor: string, at: Date = new Date()): Promise<FoldResult> {
  const providers = (await sql<{ provider: string }[]>`select distinct provider from usage_cogs_queue order by 1`).map((r) => r.provider);
  if (providers.length === 0) return { postingSeq: null, providers };
  const [row] = await sql<{ seq: bigint | null }[]>`
    select usage_fold_cogs(${cogsAccountsArgument(providers)}::text::jsonb, ${actor}, ${at}) as seq`;
  return { postingSeq: row!.seq, providers };
}

/** Folds every LIMITS.usageCogsFoldIntervalMs until stopped; `stop` folds once more. A failed fold is reported and retried on the next tick. */
export function startCogsFolder(sql: Sql, onError: (err: unknown) => void): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running.then(() => foldCogs(sql, 'usage-cogs-fold')).catch(onError);
  };
  const timer = setInterval(tick, LIMITS.usageCogsFoldIntervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      tick();
      await running;
    },
  };
}
