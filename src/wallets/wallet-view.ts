/**
 * Reading a wallet (balance, held, available, grants) and its ledger history, and changing its
 * settings (operator, audited).
 */
import { teamPromoCredit, teamWallet } from '../ledger/accounts.js';
import { teamEntries, type EntryCursor, type TeamEntry } from '../ledger/read.js';
import { audit } from '../platform/apps.js';
import { inTransaction, type Queryable, type Sql } from '../shared/db.js';
import { LIMITS } from '../shared/limits.js';
import { isSpendable } from './grant-consumption.js';
import { allGrants, type GrantRow } from './grant-store.js';
import { openHeldMinor } from './hold-store.js';
import { lockWallet, readWallet, teamCurrency, updateWalletSettings, type WalletRow, type WalletSettings } from './wallet-store.js';

export interface WalletView {
  wallet: WalletRow;
  /** Credit of unexpired grants at `now` (wallet + promo accounts once due expiries have posted). */
  balanceMinor: bigint;
  heldMinor: bigint;
  /** balance − held; below 0 only if grants expired under open holds. */
  availableMinor: bigint;
  /** Newest first, at most LIMITS.pageSizeMax. */
  grants: GrantRow[];
}

export async function walletView(sql: Queryable, teamId: string, now: Date = new Date()): Promise<WalletView> {
  const currency = await teamCurrency(sql, teamId);
  const wallet = await readWallet(sql, teamId, currency);
  const grants = await allGrants(sql, teamId, currency, LIMITS.pageSizeMax);
  // Summed in SQL over every grant with credit left, not over the (bounded) page of grants shown.
  const [row] = await sql<{ balance: bigint }[]>`
    select coalesce(sum(remaining_minor), 0)::bigint as balance from credit_grants
    where team_id = ${teamId} and currency = ${currency} and remaining_minor > 0 and (expires_at is null or expires_at > ${now})`;
  const balanceMinor = row!.balance;
  const heldMinor = await openHeldMinor(sql, teamId, currency, now);
  return { wallet, balanceMinor, heldMinor, availableMinor: balanceMinor - heldMinor, grants };
}

/** Whether a grant can still be spent at `now` (for the view's per-grant status). */
export function grantStatus(g: GrantRow, now: Date): 'active' | 'depleted' | 'expired' {
  if (g.expiredAt !== null || (g.expiresAt !== null && g.expiresAt.getTime() <= now.getTime())) return 'expired';
  return isSpendable(g, now) ? 'active' : 'depleted';
}

/** The wallet's ledger entries (its wallet and promo accounts), newest first, a page at a time. */
export async function walletEntries(sql: Queryable, teamId: string, page: { limit: number; after?: EntryCursor | undefined }): Promise<{ currency: string; entries: TeamEntry[]; next: EntryCursor | null }> {
  const currency = await teamCurrency(sql, teamId);
  const codes = [teamWallet(teamId, currency).code, teamPromoCredit(teamId, currency).code];
  const { entries, next } = await teamEntries(sql, teamId, { accountCodes: codes, limit: page.limit, after: page.after });
  return { currency, entries, next };
}

/** Changes a wallet's billing mode, overdraft limit or low-balance threshold; audited as `wallet.settings_changed`. */
export async function changeWalletSettings(sql: Sql, teamId: string, settings: WalletSettings, actor: string): Promise<WalletRow> {
  const currency = await teamCurrency(sql, teamId);
  return inTransaction(sql, async (tx) => {
    const before = await lockWallet(tx, teamId, currency);
    const after = await updateWalletSettings(tx, teamId, currency, settings);
    const show = (w: WalletRow) => ({
      billingMode: w.billingMode,
      overdraftLimitMinor: w.overdraftLimitMinor.toString(),
      lowBalanceThresholdMinor: w.lowBalanceThresholdMinor?.toString() ?? null,
    });
    await audit(tx, actor, 'wallet.settings_changed', teamId, { currency, before: show(before), after: show(after) });
    return after;
  });
}
