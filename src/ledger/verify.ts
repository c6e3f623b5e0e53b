/**
 * The ledger verifier: recomputes every balance and invariant from the entries alone, in set-based
 * SQL (a few scans, however many millions of entries), inside one read-only snapshot so concurrent
 * postings cannot make a consistent ledger look broken. Used by `npm run ledger:verify`, after the
 * test suite and after the ledger benchmark.
 */
import type { Sql } from '../shared/db.js';

export interface VerifyCounts {
  currencies: number;
  accounts: number;
  balanceRows: number;
  transactions: number;
  entries: number;
}

export interface Violation {
  check: string;
  count: number;
  /** Up to SAMPLES_MAX descriptions of offending rows. */
  samples: string[];
}

export interface VerifyReport {
  ok: boolean;
  counts: VerifyCounts;
  violations: Violation[];
  elapsedMs: number;
}

const SAMPLES_MAX = 5;

/**
 * Each check is a query yielding one text description per violation. Signed amounts are in each
 * account's normal-side terms, as balances are.
 */
const CHECKS: Array<{ check: string; query: string }> = [
  {
    check: 'every transaction has at least two entries and balances to zero in each currency',
    query: `
      with per_currency as (
        select e.transaction_id, a.currency, count(*) as n,
               sum(case when e.side = 'debit' then e.amount_minor else -e.amount_minor end) as net
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
        group by e.transaction_id, a.currency)
      select format('transaction %s (%s/%s): %s entries, net %s', t.id, t.scope, t.idempotency_key,
                    coalesce(sum(p.n), 0), coalesce(string_agg(p.currency || ' ' || p.net, ', ') filter (where p.net <> 0), '0'))
      from ledger_transactions t left join per_currency p on p.transaction_id = t.id
      group by t.id, t.scope, t.idempotency_key
      having coalesce(sum(p.n), 0) < 2 or bool_or(p.net <> 0)`,
  },
  {
    check: 'every entry belongs to a transaction, an account and one of its shards, with the effective time of its transaction',
    query: `
      select format('entry %s (transaction %s, leg %s): %s', e.id, e.transaction_id, e.leg_index,
                    case when t.id is null then 'no such transaction' when a.id is null then 'no such account'
                         when e.shard >= a.shards then 'no such shard' else 'effective_at differs from its transaction' end)
      from ledger_entries e
      left join ledger_transactions t on t.id = e.transaction_id
      left join ledger_accounts a on a.id = e.account_id
      where t.id is null or a.id is null or e.shard >= a.shards or e.effective_at <> t.effective_at`,
  },
  {
    check: 'each account shard has an unbroken, gapless chain (version n follows n-1, balance_before = previous balance_after, after = before ± amount) starting at 0',
    query: `
      with chain as (
        select e.id, a.code, e.shard, e.account_version, e.balance_before_minor, e.balance_after_minor,
               e.balance_before_minor + case when e.side = a.normal_side then e.amount_minor else -e.amount_minor end as expected_after,
               lag(e.account_version) over w as prev_version, lag(e.balance_after_minor) over w as prev_after
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
        window w as (partition by e.account_id, e.shard order by e.account_version))
      select format('%s shard %s version %s (entry %s): %s', code, shard, account_version, id,
                    case when balance_after_minor <> expected_after then format('after %s <> before ± amount = %s', balance_after_minor, expected_after)
                         when prev_version is null then format('chain starts at version %s with balance %s', account_version, balance_before_minor)
                         when account_version <> prev_version + 1 then format('follows version %s', prev_version)
                         else format('before %s <> previous after %s', balance_before_minor, prev_after) end)
      from chain
      where balance_after_minor <> expected_after
         or (prev_version is null and (account_version <> 1 or balance_before_minor <> 0))
         or (prev_version is not null and (account_version <> prev_version + 1 or balance_before_minor <> prev_after))`,
  },
  {
    check: 'no balance ever went below its floor or above its ceiling, at any version',
    query: `
      select format('%s version %s (entry %s): balance %s outside [%s, %s]', a.code, e.account_version, e.id,
                    e.balance_after_minor, coalesce(a.min_balance_minor::text, '-inf'), coalesce(a.max_balance_minor::text, 'inf'))
      from ledger_entries e join ledger_accounts a on a.id = e.account_id
      where (a.min_balance_minor is not null or a.max_balance_minor is not null)
        and (e.balance_after_minor < a.min_balance_minor or e.balance_after_minor > a.max_balance_minor)`,
  },
  {
    check: 'each stored balance row equals the sum of its entries, and its version their count',
    query: `
      with recomputed as (
        select e.account_id, e.shard, count(*) as n,
               sum(case when e.side = a.normal_side then e.amount_minor else -e.amount_minor end) as total
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
        group by e.account_id, e.shard)
      select format('account %s shard %s: stored %s at version %s, entries sum to %s over %s', coalesce(b.account_id, r.account_id),
                    coalesce(b.shard, r.shard), coalesce(b.balance_minor::text, 'no row'), coalesce(b.version::text, 'no row'),
                    coalesce(r.total, 0), coalesce(r.n, 0))
      from ledger_balances b full join recomputed r on r.account_id = b.account_id and r.shard = b.shard
      where b.account_id is null or b.balance_minor <> coalesce(r.total, 0) or b.version <> coalesce(r.n, 0)`,
  },
  {
    check: 'each account has exactly one balance row per shard',
    query: `
      select format('%s: %s balance rows for %s shards', a.code, count(b.shard), a.shards)
      from ledger_accounts a left join ledger_balances b on b.account_id = a.id
      group by a.id, a.code, a.shards
      having count(b.shard) <> a.shards or coalesce(max(b.shard), 0) >= a.shards`,
  },
  {
    check: 'each reversal mirrors the transaction it reverses, leg for leg',
    query: `
      with reversal_legs as (
        select r.id as reversal_id, e.account_id, e.shard, e.side, e.amount_minor
        from ledger_transactions r join ledger_entries e on e.transaction_id = r.id
        where r.reverses_id is not null),
      mirrored_legs as (
        select r.id as reversal_id, e.account_id, e.shard,
               case e.side when 'debit' then 'credit'::ledger_side else 'debit'::ledger_side end as side, e.amount_minor
        from ledger_transactions r join ledger_entries e on e.transaction_id = r.reverses_id
        where r.reverses_id is not null)
      select format('reversal %s: %s unmatched legs', reversal_id, count(*))
      from ((select * from reversal_legs except all select * from mirrored_legs)
            union all (select * from mirrored_legs except all select * from reversal_legs)) unmatched
      group by reversal_id`,
  },
];

/** Recomputes the ledger from its entries and reports every broken invariant (none: ok). */
export async function verifyLedger(sql: Sql): Promise<VerifyReport> {
  const started = performance.now();
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    // Sorting and hashing millions of entries wants more than the default work_mem; local to this snapshot.
    await tx`set local work_mem = '256MB'`;
    const [row] = await tx<Record<keyof VerifyCounts, bigint>[]>`
      select (select count(*) from ledger_currencies) as currencies,
             (select count(*) from ledger_accounts) as accounts,
             (select count(*) from ledger_balances) as "balanceRows",
             (select count(*) from ledger_transactions) as transactions,
             (select count(*) from ledger_entries) as entries`;
    const counts = Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)])) as unknown as VerifyCounts;
    const violations: Violation[] = [];
    for (const { check, query } of CHECKS) {
      const rows = await tx.unsafe<{ total: number; sample: string }[]>(
        `select (count(*) over ())::int as total, v.description as sample from (${query}) as v(description) limit ${SAMPLES_MAX}`,
      );
      if (rows.length > 0) violations.push({ check, count: rows[0]!.total, samples: rows.map((r) => r.sample) });
    }
    return { ok: violations.length === 0, counts, violations, elapsedMs: Math.round(performance.now() - started) };
  }) as Promise<VerifyReport>;
}

/** The operator's reading of a report: one OK line, or each broken invariant with samples. */
export function formatReport(report: VerifyReport): string {
  const { counts } = report;
  const summary =
    `${counts.transactions} transactions, ${counts.entries} entries, ${counts.accounts} accounts ` +
    `(${counts.balanceRows} balance rows), ${counts.currencies} currencies; ${(report.elapsedMs / 1000).toFixed(1)}s`;
  if (report.ok) return `ledger OK: ${summary}`;
  const lines = [`ledger BROKEN: ${report.violations.length} invariant(s) violated over ${summary}`];
  for (const v of report.violations) {
    lines.push(`  ✗ ${v.check}: ${v.count} violation(s)`);
    for (const s of v.samples) lines.push(`      ${s}`);
  }
  return lines.join('\n');
}
