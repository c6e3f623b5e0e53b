/**
 * The ledger postings of wallet movements (the accounts are in src/ledger/accounts.ts, whose header
 * says why each counter-account). One ledger transaction per movement, in scope `wallet`, keyed by
 * the grant, debit or expiry it records, so a posting can never happen twice.
 */
import {
  appRevenue,
  breakageRevenue,
  promotionExpense,
  stripeClearing,
  teamPromoCredit,
  teamReceivable,
  teamWallet,
  walletAdjustment,
} from '../ledger/accounts.js';
import type { AccountSpec, Leg, PostRequest } from '../ledger/contract.js';
import type { Consumption } from './grant-consumption.js';
import type { GrantAccount, GrantRow, GrantSource } from './grant-store.js';

export const WALLET_LEDGER_SCOPE = 'wallet';

export function grantAccountSpec(account: GrantAccount, teamId: string, currency: string): AccountSpec {
  return account === 'promo' ? teamPromoCredit(teamId, currency) : teamWallet(teamId, currency);
}

/** Where a grant's money comes from when it is given. */
function fundingAccount(source: GrantSource, currency: string): AccountSpec {
  switch (source) {
    case 'purchase':
      return stripeClearing(currency);
    case 'promotion':
    case 'plan_allowance':
      return promotionExpense(currency);
    case 'refund':
    case 'manual':
      return walletAdjustment(currency);
  }
}

/** Where an expired remainder goes: back to its funding account, except paid-for credit, which is breakage revenue. */
function expiryAccount(source: GrantSource, currency: string): AccountSpec {
  return source === 'purchase' ? breakageRevenue(currency) : fundingAccount(source, currency);
}

/** A grant: its funding account gives the amount; the overdraft settled comes off the receivable, the rest is credit. */
export function grantPosting(
  g: { id: string; teamId: string; currency: string; source: GrantSource; account: GrantAccount; amountMinor: bigint; overdraftSettledMinor: bigint },
  at: Date,
  actor: string,
): PostRequest {
  const credit = g.amountMinor - g.overdraftSettledMinor;
  const legs: Leg[] = [{ account: fundingAccount(g.source, g.currency), side: 'debit', amountMinor: g.amountMinor, shardKey: g.teamId }];
  if (g.overdraftSettledMinor > 0n) legs.push({ account: teamReceivable(g.teamId, g.currency), side: 'credit', amountMinor: g.overdraftSettledMinor });
  if (credit > 0n) legs.push({ account: grantAccountSpec(g.account, g.teamId, g.currency), side: 'credit', amountMinor: credit });
  return {
    scope: WALLET_LEDGER_SCOPE,
    idempotencyKey: `grant:${g.id}`,
    code: 'wallet_grant',
    effectiveAt: at,
    legs,
    metadata: { teamId: g.teamId, grantId: g.id, source: g.source, overdraftSettledMinor: g.overdraftSettledMinor.toString() },
    provenance: { actor },
  };
}

/** The unused remainder of a grant leaves at its exact expiry time. */
export function expiryPosting(g: GrantRow): PostRequest {
  return {
    scope: WALLET_LEDGER_SCOPE,
    idempotencyKey: `expire:${g.id}`,
    code: 'wallet_grant_expired',
    effectiveAt: g.expiresAt!,
    legs: [
      { account: grantAccountSpec(g.account, g.teamId, g.currency), side: 'debit', amountMinor: g.remainingMinor },
      { account: expiryAccount(g.source, g.currency), side: 'credit', amountMinor: g.remainingMinor, shardKey: g.teamId },
    ],
    metadata: { teamId: g.teamId, grantId: g.id, source: g.source },
  };
}

/**
 * A debit: each grant account gives what was consumed from its grants, the receivable takes the
 * overdraft, and the app's revenue receives the whole amount.
 */
export function debitPosting(d: {
  id: string;
  teamId: string;
  currency: string;
  appId: string;
  consumed: readonly (Consumption & { account: GrantAccount })[];
  overdraftMinor: bigint;
  holdId: string | null;
  at: Date;
}): PostRequest {
  const byAccount = new Map<GrantAccount, bigint>();
  for (const c of d.consumed) byAccount.set(c.account, (byAccount.get(c.account) ?? 0n) + c.amountMinor);
  const legs: Leg[] = [];
  let total = d.overdraftMinor;
  for (const account of ['promo', 'wallet'] as const) {
    const amount = byAccount.get(account) ?? 0n;
    if (amount > 0n) legs.push({ account: grantAccountSpec(account, d.teamId, d.currency), side: 'debit', amountMinor: amount });
    total += amount;
  }
  if (d.overdraftMinor > 0n) legs.push({ account: teamReceivable(d.teamId, d.currency), side: 'debit', amountMinor: d.overdraftMinor });
  legs.push({ account: appRevenue(d.appId, d.currency), side: 'credit', amountMinor: total, shardKey: d.teamId });
  return {
    scope: WALLET_LEDGER_SCOPE,
    idempotencyKey: `debit:${d.id}`,
    code: 'wallet_debit',
    effectiveAt: d.at,
    legs,
    metadata: { teamId: d.teamId, appId: d.appId, ...(d.holdId ? { holdId: d.holdId } : {}), overdraftMinor: d.overdraftMinor.toString() },
  };
}
