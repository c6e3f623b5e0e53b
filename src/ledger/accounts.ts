/**
 * The chart of accounts: the only place account codes and their definitions are built. Every account
 * holds one currency, so the currency is part of each code.
 *
 *   wallet:<team>:<CUR>        liability  prepaid money we owe the team; never below zero
 *   promo:<team>:<CUR>         liability  granted credit; never below zero
 *   receivable:<team>:<CUR>    asset      what the team owes us (postpaid usage, open invoices)
 *   revenue:<app>:<CUR>        revenue    what we earned, per app                       (sharded)
 *   cogs:<provider>:<CUR>      expense    what providers charge us, per provider        (sharded)
 *   payable:<provider>:<CUR>   liability  what we owe that provider                     (sharded)
 *   stripe_clearing:<CUR>      asset      money Stripe collected and has not paid out   (sharded)
 *   rounding:<CUR>             expense    differences between micro-units and cents     (sharded)
 *   promotion:<CUR>            expense    promotional and plan-allowance credit we give (sharded)
 *   wallet_adjustment:<CUR>    expense    refund and manual credit an operator gives    (sharded)
 *   breakage:<CUR>             revenue    purchased credit that expired unused          (sharded)
 *
 * Wallet grants (src/wallets/): a purchase moves stripe_clearing → wallet; a refund or manual grant
 * wallet_adjustment → wallet; a promotion or plan allowance promotion → promo. When a grant expires,
 * its unused remainder goes back where it came from (promo → promotion, wallet → wallet_adjustment),
 * except paid-for credit, which becomes breakage revenue: the cash stays ours, the debt to the team ends.
 *
 * Rounding is an expense (debit-normal), not equity: a rounding difference is a tiny gain or loss of
 * the period, so it belongs in the P&L beside COGS, where margin reports see it and a drift shows up
 * per period; equity only moves through owners' contributions and closed-out earnings. A net gain
 * simply shows as a negative expense balance, which is why it has no floor.
 */
import type { AccountSpec } from './contract.js';

/**
 * Balance rows per hot system account. A writer holds its row until its commit is durable, so two
 * concurrent writers on one row queue for a whole commit; 128 rows make that rare with dozens of
 * writers. It is part of each account's definition: changing it conflicts with the accounts already
 * open, so a new count needs new codes. A posting that aggregates many teams (e.g. COGS accruals of
 * one ingest batch) should use one shard key for the whole posting (the default, its idempotency
 * key) rather than one per team, so that it stays two legs per account pair.
 */
export const SYSTEM_ACCOUNT_SHARDS = 128;

function teamAccount(purpose: string, kind: AccountSpec['kind'], teamId: string, currency: string, floor: bigint | null): AccountSpec {
  return {
    code: `${purpose}:${teamId}:${currency}`,
    kind,
    currency,
    ownerType: 'team',
    ownerId: teamId,
    minBalanceMinor: floor,
    maxBalanceMinor: null,
    shards: 1,
  };
}

function systemAccount(
  code: string,
  kind: AccountSpec['kind'],
  currency: string,
  owner: { ownerType: AccountSpec['ownerType']; ownerId: string | null },
): AccountSpec {
  return { code, kind, currency, ...owner, minBalanceMinor: null, maxBalanceMinor: null, shards: SYSTEM_ACCOUNT_SHARDS };
}

/** Prepaid money of a team; debits beyond its balance are refused (insufficient_funds). */
export function teamWallet(teamId: string, currency: string): AccountSpec {
  return teamAccount('wallet', 'liability', teamId, currency, 0n);
}

/** Promotional credit granted to a team; spent before or beside the wallet, never overdrawn. */
export function teamPromoCredit(teamId: string, currency: string): AccountSpec {
  return teamAccount('promo', 'liability', teamId, currency, 0n);
}

/** What a team owes us: postpaid usage and issued invoices, until paid. */
export function teamReceivable(teamId: string, currency: string): AccountSpec {
  return teamAccount('receivable', 'asset', teamId, currency, null);
}

/** Revenue earned through an app. Post a team's charge with `shardKey: teamId`. */
export function appRevenue(appId: string, currency: string): AccountSpec {
  return systemAccount(`revenue:${appId}:${currency}`, 'revenue', currency, { ownerType: 'app', ownerId: appId });
}

/** Cost of goods sold charged by a provider (e.g. an LLM vendor); see SYSTEM_ACCOUNT_SHARDS on shard keys. */
export function providerCogs(provider: string, currency: string): AccountSpec {
  return systemAccount(`cogs:${provider}:${currency}`, 'expense', currency, { ownerType: 'provider', ownerId: provider });
}

/** What we owe a provider for that cost, until we pay its bill; see SYSTEM_ACCOUNT_SHARDS on shard keys. */
export function providerPayable(provider: string, currency: string): AccountSpec {
  return systemAccount(`payable:${provider}:${currency}`, 'liability', currency, { ownerType: 'provider', ownerId: provider });
}

/** Money Stripe collected for us and has not paid out yet; returns to zero as payouts settle. */
export function stripeClearing(currency: string): AccountSpec {
  return systemAccount(`stripe_clearing:${currency}`, 'asset', currency, { ownerType: 'system', ownerId: null });
}

/** Explicit residues of converting ledger micro-units to Stripe cents (see the header on why an expense). */
export function rounding(currency: string): AccountSpec {
  return systemAccount(`rounding:${currency}`, 'expense', currency, { ownerType: 'system', ownerId: null });
}

/** Promotional and plan-allowance credit given to teams (a cost of sales and marketing); expired promo credit returns here. */
export function promotionExpense(currency: string): AccountSpec {
  return systemAccount(`promotion:${currency}`, 'expense', currency, { ownerType: 'system', ownerId: null });
}

/** Refund and manual credit an operator puts in a wallet without cash behind it; its expired remainder returns here. */
export function walletAdjustment(currency: string): AccountSpec {
  return systemAccount(`wallet_adjustment:${currency}`, 'expense', currency, { ownerType: 'system', ownerId: null });
}

/** Purchased wallet credit that expired unused: earned once we no longer owe it. */
export function breakageRevenue(currency: string): AccountSpec {
  return systemAccount(`breakage:${currency}`, 'revenue', currency, { ownerType: 'system', ownerId: null });
}
