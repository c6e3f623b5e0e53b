/**
 * The `wallets` table: one row per team and currency with its billing mode and overdraft policy.
 * The row is also the wallet's lock: every change to a wallet's money first takes it with
 * lockWallet(), so concurrent debits, grants, expiries and holds of one wallet run one at a time.
 */
import type { Queryable, TxSql } from '../shared/db.js';
import { notFound } from '../shared/errors.js';

export type BillingMode = 'arrears' | 'wallet' | 'wallet_then_arrears';

export interface WalletRow {
  teamId: string;
  currency: string;
  billingMode: BillingMode;
  overdraftLimitMinor: bigint;
  overdraftUsedMinor: bigint;
  lowBalanceThresholdMinor: bigint | null;
  /** A low-balance / depleted notice was raised for the current crossing (balance-notices.ts). */
  lowBalanceNoticed: boolean;
  depletedNoticed: boolean;
}

interface Row {
  team_id: string;
  currency: string;
  billing_mode: BillingMode;
  overdraft_limit_minor: bigint;
  overdraft_used_minor: bigint;
  low_balance_threshold_minor: bigint | null;
  low_balance_noticed: boolean;
  depleted_noticed: boolean;
}

const toWallet = (r: Row): WalletRow => ({
  teamId: r.team_id,
  currency: r.currency,
  billingMode: r.billing_mode,
  overdraftLimitMinor: r.overdraft_limit_minor,
  overdraftUsedMinor: r.overdraft_used_minor,
  lowBalanceThresholdMinor: r.low_balance_threshold_minor,
  lowBalanceNoticed: r.low_balance_noticed,
  depletedNoticed: r.depleted_noticed,
});

/** The team's currency: a team has one wallet, in the currency it pays in. */
export async function teamCurrency(sql: Queryable, teamId: string): Promise<string> {
  const [row] = await sql<{ currency: string }[]>`select currency from teams where id = ${teamId}`;
  if (!row) throw notFound(`Team ${teamId}`);
  return row.currency;
}

/** Creates the wallet with the defaults (arrears, no overdraft) if it does not exist yet. */
export async function ensureWallet(sql: Queryable, teamId: string, currency: string): Promise<void> {
  await sql`insert into wallets (team_id, currency) values (${teamId}, ${currency}) on conflict do nothing`;
}

/** Takes the wallet's row lock for the rest of the transaction (creating the wallet if needed). */
export async function lockWallet(tx: TxSql, teamId: string, currency: string): Promise<WalletRow> {
  await ensureWallet(tx, teamId, currency);
  const [row] = await tx<Row[]>`select * from wallets where team_id = ${teamId} and currency = ${currency} for update`;
  return toWallet(row!);
}

/** The wallet without a lock, or the defaults of a wallet never written. */
export async function readWallet(sql: Queryable, teamId: string, currency: string): Promise<WalletRow> {
  const [row] = await sql<Row[]>`select * from wallets where team_id = ${teamId} and currency = ${currency}`;
  return row
    ? toWallet(row)
    : { teamId, currency, billingMode: 'arrears', overdraftLimitMinor: 0n, overdraftUsedMinor: 0n, lowBalanceThresholdMinor: null, lowBalanceNoticed: false, depletedNoticed: false };
}

export interface WalletSettings {
  billingMode?: BillingMode | undefined;
  overdraftLimitMinor?: bigint | undefined;
  /** null clears the threshold. */
  lowBalanceThresholdMinor?: bigint | null | undefined;
}

/** Changes the settings given; the caller holds the wallet's lock. */
export async function updateWalletSettings(tx: TxSql, teamId: string, currency: string, s: WalletSettings): Promise<WalletRow> {
  const [row] = await tx<Row[]>`
    update wallets set
      billing_mode = coalesce(${s.billingMode ?? null}, billing_mode),
      overdraft_limit_minor = coalesce(${s.overdraftLimitMinor ?? null}::bigint, overdraft_limit_minor),
      low_balance_threshold_minor = case when ${s.lowBalanceThresholdMinor !== undefined} then ${s.lowBalanceThresholdMinor ?? null}::bigint
                                         else low_balance_threshold_minor end,
      updated_at = now()
    where team_id = ${teamId} and currency = ${currency}
    returning *`;
  return toWallet(row!);
}

/** Takes what a grant paid back off the overdraft used; the caller holds the wallet's lock. */
export async function settleOverdraft(tx: TxSql, teamId: string, currency: string, amountMinor: bigint): Promise<void> {
  await tx`
    update wallets set overdraft_used_minor = overdraft_used_minor - ${amountMinor}, updated_at = now()
    where team_id = ${teamId} and currency = ${currency}`;
}

/** Adds to what the overdraft has put on the receivable; the caller holds the wallet's lock. */
export async function addOverdraftUsed(tx: TxSql, teamId: string, currency: string, amountMinor: bigint): Promise<void> {
  await tx`
    update wallets set overdraft_used_minor = overdraft_used_minor + ${amountMinor}, updated_at = now()
    where team_id = ${teamId} and currency = ${currency}`;
}

/** Records which balance notices the current crossing has raised; the caller holds the wallet's lock. */
export async function setNoticed(tx: TxSql, teamId: string, currency: string, n: { lowBalanceNoticed: boolean; depletedNoticed: boolean }): Promise<void> {
  await tx`
    update wallets set low_balance_noticed = ${n.lowBalanceNoticed}, depleted_noticed = ${n.depletedNoticed}, updated_at = now()
    where team_id = ${teamId} and currency = ${currency}`;
}
