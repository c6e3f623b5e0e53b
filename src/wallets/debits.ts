/**
 * Debiting a wallet: under the wallet's row lock, consume grants in order (grant-consumption.ts) up
 * to the available balance (credit less open holds); beyond it, the team's overdraft policy decides:
 * up to overdraft_limit − overdraft_used goes on the team's receivable, explicitly; more is refused
 * with insufficient_funds and nothing is written. The wallet account itself never goes below 0.
 */
import { randomUUID } from 'node:crypto';
import { postTransactions } from '../ledger/post.js';
import { requestHash } from '../shared/crypto.js';
import { withinTransaction, type Queryable, type TxSql } from '../shared/db.js';
import { AppError, idempotencyConflict } from '../shared/errors.js';
import { consumeGrants, isSpendable } from './grant-consumption.js';
import { openGrants, takeFromGrants } from './grant-store.js';
import { applyExpiries, dueExpiries } from './grants.js';
import { openHeldMinor } from './hold-store.js';
import { debitByKey, insertDebit, type DebitRow } from './debit-store.js';
import { debitPosting } from './wallet-ledger.js';
import { addOverdraftUsed, lockWallet, teamCurrency } from './wallet-store.js';
import { noteBalance } from './balance-notices.js';

export interface DebitInput {
  teamId: string;
  /** The app the money is earned through (revenue account). */
  appId: string;
  /** > 0, ≤ LIMITS.walletAmountMinorMax. */
  amountMinor: bigint;
  /** Per team; a retry with the same key and payload returns the first debit. */
  idempotencyKey: string;
}

/** Debits a wallet (see the file header). A replay returns the stored debit with `replayed: true`. */
export async function debitWallet(sql: Queryable, input: DebitInput, now: Date = new Date()): Promise<{ debit: DebitRow; replayed: boolean }> {
  const currency = await teamCurrency(sql, input.teamId);
  return withinTransaction(sql, async (tx) => {
    const wallet = await lockWallet(tx, input.teamId, currency);
    const result = await debitLocked(tx, { ...input, currency, holdId: null }, now);
    if (!result.replayed) await noteBalance(tx, wallet, `debit:${result.debit.ledgerTransactionId}`, now);
    return result;
  });
}

/** The debit itself; the caller holds the wallet's lock. `holdId`: the hold being captured (its own reservation is spendable). */
export async function debitLocked(
  tx: TxSql,
  input: DebitInput & { currency: string; holdId: string | null },
  now: Date,
): Promise<{ debit: DebitRow; replayed: boolean }> {
  const { teamId, currency } = input;
  const hash = requestHash({ currency, appId: input.appId, amountMinor: input.amountMinor, holdId: input.holdId });
  const existing = await debitByKey(tx, teamId, input.idempotencyKey);
  if (existing) {
    if (!existing.requestHash.equals(hash)) throw idempotencyConflict(input.idempotencyKey);
    return { debit: existing, replayed: true };
  }
  const wallet = await lockWallet(tx, teamId, currency);
  const grants = await openGrants(tx, teamId, currency);
  const balance = grants.filter((g) => isSpendable(g, now)).reduce((sum, g) => sum + g.remainingMinor, 0n);
  const held = await openHeldMinor(tx, teamId, currency, now, input.holdId ?? undefined);
  const available = balance > held ? balance - held : 0n;
  const fromGrants = input.amountMinor < available ? input.amountMinor : available;
  const overdraft = input.amountMinor - fromGrants;
  const overdraftRoom = wallet.overdraftLimitMinor > wallet.overdraftUsedMinor ? wallet.overdraftLimitMinor - wallet.overdraftUsedMinor : 0n;
  if (overdraft > overdraftRoom) {
    throw new AppError('insufficient_funds', `The wallet has ${available} minor units available and ${overdraftRoom} of overdraft left; the debit needs ${input.amountMinor}`, {
      details: { availableMinor: available.toString(), overdraftRoomMinor: overdraftRoom.toString(), amountMinor: input.amountMinor.toString() },
    });
  }
  const { consumed } = consumeGrants(grants, fromGrants, now);
  const accountOf = new Map(grants.map((g) => [g.id, g.account]));
  const id = randomUUID();
  // Expiries that came due go in the same ledger call, so the wallet never spends lapsed credit.
  const expiries = await dueExpiries(tx, teamId, currency, now);
  const posted = await postTransactions(tx, [
    ...expiries.requests,
    debitPosting({
      id,
      teamId,
      currency,
      appId: input.appId,
      consumed: consumed.map((c) => ({ ...c, account: accountOf.get(c.grantId)! })),
      overdraftMinor: overdraft,
      holdId: input.holdId,
      at: now,
    }),
  ]);
  await applyExpiries(tx, expiries.grants, posted.slice(0, -1).map((p) => p.transactionId));
  const transactionId = posted[posted.length - 1]!.transactionId;
  await takeFromGrants(tx, transactionId, 'debit', consumed, null);
  if (overdraft > 0n) await addOverdraftUsed(tx, teamId, currency, overdraft);
  const debit = await insertDebit(tx, {
    teamId,
    currency,
    idempotencyKey: input.idempotencyKey,
    requestHash: hash,
    appId: input.appId,
    amountMinor: input.amountMinor,
    fromGrantsMinor: fromGrants,
    overdraftMinor: overdraft,
    holdId: input.holdId,
    ledgerTransactionId: transactionId,
  });
  return { debit, replayed: false };
}
