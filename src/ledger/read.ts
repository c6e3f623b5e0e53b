/**
 * Reading a team's side of the ledger: the balances of its accounts, and its entries newest first
 * (by business time), a page at a time with an opaque cursor.
 */
import type { Queryable } from '../shared/db.js';
import type { AccountKind, Side } from './contract.js';

export interface TeamBalance {
  accountCode: string;
  kind: AccountKind;
  currency: string;
  /** Digits after the decimal point of the currency's minor units in the ledger. */
  scale: number;
  /** In the account's normal-side terms (a wallet holding $5 is 5000000 at scale 6); summed over shards. */
  balanceMinor: bigint;
  minBalanceMinor: bigint | null;
  maxBalanceMinor: bigint | null;
  /** Entries posted to the account so far. */
  entryCount: bigint;
}

/** The balances of every account the team owns, by account code. */
export async function teamBalances(sql: Queryable, teamId: string): Promise<TeamBalance[]> {
  const rows = await sql<
    {
      code: string;
      kind: AccountKind;
      currency: string;
      scale: number;
      balance_minor: bigint;
      min_balance_minor: bigint | null;
      max_balance_minor: bigint | null;
      entry_count: bigint;
    }[]
  >`
    select a.code, a.kind, a.currency, c.scale, a.min_balance_minor, a.max_balance_minor,
           sum(b.balance_minor)::bigint as balance_minor, sum(b.version)::bigint as entry_count
    from ledger_accounts a
    join ledger_currencies c on c.code = a.currency
    join ledger_balances b on b.account_id = a.id
    where a.owner_type = 'team' and a.owner_id = ${teamId}
    group by a.id, a.code, a.kind, a.currency, c.scale, a.min_balance_minor, a.max_balance_minor
    order by a.code`;
  return rows.map((r) => ({
    accountCode: r.code,
    kind: r.kind,
    currency: r.currency,
    scale: r.scale,
    balanceMinor: r.balance_minor,
    minBalanceMinor: r.min_balance_minor,
    maxBalanceMinor: r.max_balance_minor,
    entryCount: r.entry_count,
  }));
}

export interface TeamEntry {
  entryId: bigint;
  transactionId: string;
  transactionCode: string;
  effectiveAt: Date;
  createdAt: Date;
  accountCode: string;
  currency: string;
  scale: number;
  side: Side;
  amountMinor: bigint;
  balanceBeforeMinor: bigint;
  balanceAfterMinor: bigint;
  accountVersion: bigint;
  metadata: Record<string, unknown>;
}

/** Where the previous page ended: entries strictly older in (effective time, entry id) order come next. */
export interface EntryCursor {
  /** Postgres' own text of the timestamp, so no microsecond is lost on the way round. */
  effectiveAt: string;
  entryId: string;
}

export interface EntryQuery {
  accountCode?: string | undefined;
  /** Only entries of these accounts of the team (e.g. a wallet's wallet and promo accounts). */
  accountCodes?: readonly string[] | undefined;
  /** Inclusive lower bound of the effective time. */
  from?: Date | undefined;
  /** Exclusive upper bound of the effective time. */
  to?: Date | undefined;
  limit: number;
  after?: EntryCursor | undefined;
}

/** The team's entries, newest effective time first; `next` is null on the last page. */
export async function teamEntries(sql: Queryable, teamId: string, q: EntryQuery): Promise<{ entries: TeamEntry[]; next: EntryCursor | null }> {
  // Per account, the (account_id, effective_at, id) index yields entries in page order; the few
  // accounts of a team are then merged.
  const rows = await sql<
    {
      id: bigint;
      transaction_id: string;
      transaction_code: string;
      effective_at: Date;
      effective_at_text: string;
      created_at: Date;
      account_code: string;
      currency: string;
      scale: number;
      side: Side;
      amount_minor: bigint;
      balance_before_minor: bigint;
      balance_after_minor: bigint;
      account_version: bigint;
      metadata: Record<string, unknown>;
    }[]
  >`
    select e.id, e.transaction_id, t.code as transaction_code, e.effective_at, e.effective_at::text as effective_at_text,
           t.created_at, a.code as account_code, a.currency, c.scale, e.side, e.amount_minor,
           e.balance_before_minor, e.balance_after_minor, e.account_version, t.metadata
    from ledger_accounts a
    join ledger_currencies c on c.code = a.currency
    cross join lateral (
      select * from ledger_entries e
      where e.account_id = a.id
        ${q.from ? sql`and e.effective_at >= ${q.from}` : sql``}
        ${q.to ? sql`and e.effective_at < ${q.to}` : sql``}
        ${q.after ? sql`and (e.effective_at, e.id) < (${q.after.effectiveAt}::timestamptz, ${q.after.entryId}::bigint)` : sql``}
      order by e.effective_at desc, e.id desc
      limit ${q.limit + 1}
    ) e
    join ledger_transactions t on t.id = e.transaction_id
    where a.owner_type = 'team' and a.owner_id = ${teamId}
      ${q.accountCode ? sql`and a.code = ${q.accountCode}` : sql``}
      ${q.accountCodes ? sql`and a.code = any(${q.accountCodes as string[]})` : sql``}
    order by e.effective_at desc, e.id desc
    limit ${q.limit + 1}`;
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    entries: page.map((r) => ({
      entryId: r.id,
      transactionId: r.transaction_id,
      transactionCode: r.transaction_code,
      effectiveAt: r.effective_at,
      createdAt: r.created_at,
      accountCode: r.account_code,
      currency: r.currency,
      scale: r.scale,
      side: r.side,
      amountMinor: r.amount_minor,
      balanceBeforeMinor: r.balance_before_minor,
      balanceAfterMinor: r.balance_after_minor,
      accountVersion: r.account_version,
      metadata: r.metadata,
    })),
    next: rows.length > q.limit && last ? { effectiveAt: last.effective_at_text, entryId: last.id.toString() } : null,
  };
}

/** Whether `accountCode` is an account of the team (so a filter on it is meaningful). */
export async function isTeamAccount(sql: Queryable, teamId: string, accountCode: string): Promise<boolean> {
  const rows = await sql`select 1 from ledger_accounts where code = ${accountCode} and owner_type = 'team' and owner_id = ${teamId}`;
  return rows.length > 0;
}
