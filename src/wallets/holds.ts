/**
 * Holds: an app reserves part of the available balance before long work, then captures (debits up
 * to the held amount; the rest is released) or releases it. A hold past its expires_at counts as
 * released (lazy expiry, no timer): it stops reducing the available balance at that instant and can
 * no longer be captured. Every step runs under the wallet's lock; a reservation itself moves no
 * money, so only a capture posts to the ledger (through debitLocked).
 */
import { randomUUID } from 'node:crypto';
import { requestHash } from '../shared/crypto.js';
import { inTransaction, type Sql, type TxSql } from '../shared/db.js';
import { AppError, idempotencyConflict, notFound, validationError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { isSpendable } from './grant-consumption.js';
import { openGrants } from './grant-store.js';
import { debitLocked } from './debits.js';
import type { DebitRow } from './debit-store.js';
import { effectiveStatus, holdById, holdByKey, insertHold, openHeldMinor, resolveHold, type HoldRow } from './hold-store.js';
import { lockWallet, teamCurrency, type WalletRow } from './wallet-store.js';
import { noteBalance } from './balance-notices.js';

export interface HoldInput {
  teamId: string;
  appId: string;
  amountMinor: bigint;
  /** 1 … LIMITS.walletHoldTtlSecondsMax; default LIMITS.walletHoldTtlSecondsDefault. */
  ttlSeconds?: number | undefined;
  idempotencyKey: string;
}

/** Reserves `amountMinor` of the available balance; insufficient_funds when it is not there. */
export async function createHold(sql: Sql, input: HoldInput, now: Date = new Date()): Promise<{ hold: HoldRow; replayed: boolean }> {
  const currency = await teamCurrency(sql, input.teamId);
  const ttlSeconds = input.ttlSeconds ?? LIMITS.walletHoldTtlSecondsDefault;
  const hash = requestHash({ currency, appId: input.appId, amountMinor: input.amountMinor, ttlSeconds });
  return inTransaction(sql, async (tx) => {
    const wallet = await lockWallet(tx, input.teamId, currency);
    const existing = await holdByKey(tx, input.teamId, input.idempotencyKey);
    if (existing) {
      if (!existing.requestHash.equals(hash)) throw idempotencyConflict(input.idempotencyKey);
      return { hold: existing, replayed: true };
    }
    const balance = (await openGrants(tx, input.teamId, currency)).filter((g) => isSpendable(g, now)).reduce((s, g) => s + g.remainingMinor, 0n);
    const held = await openHeldMinor(tx, input.teamId, currency, now);
    const available = balance - held;
    if (input.amountMinor > available) {
      throw new AppError('insufficient_funds', `The wallet has ${available > 0n ? available : 0n} minor units available; the hold needs ${input.amountMinor}`, {
        details: { availableMinor: (available > 0n ? available : 0n).toString(), amountMinor: input.amountMinor.toString() },
      });
    }
    const hold = await insertHold(
      tx,
      {
        id: randomUUID(),
        teamId: input.teamId,
        currency,
        appId: input.appId,
        amountMinor: input.amountMinor,
        expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
        idempotencyKey: input.idempotencyKey,
        requestHash: hash,
      },
      now,
    );
    await noteBalance(tx, wallet, `hold:${hold.id}`, now);
    return { hold, replayed: false };
  });
}

async function lockedHold(tx: TxSql, teamId: string, holdId: string): Promise<{ hold: HoldRow; wallet: WalletRow }> {
  const currency = await teamCurrency(tx, teamId);
  const wallet = await lockWallet(tx, teamId, currency);
  const hold = await holdById(tx, teamId, holdId);
  if (!hold) throw notFound(`Hold ${holdId} of team ${teamId}`);
  return { hold, wallet };
}

/**
 * Captures an open hold: debits `amountMinor` (default: all of it; at most the held amount) and
 * releases the rest. Idempotent by the hold: capturing a captured hold again with the same amount
 * returns the first capture; another amount, or a released or expired hold, is a conflict.
 */
export async function captureHold(
  sql: Sql,
  input: { teamId: string; holdId: string; amountMinor?: bigint | undefined },
  now: Date = new Date(),
): Promise<{ hold: HoldRow; debit: DebitRow; replayed: boolean }> {
  return inTransaction(sql, async (tx) => {
    const { hold, wallet } = await lockedHold(tx, input.teamId, input.holdId);
    const amount = input.amountMinor ?? hold.amountMinor;
    if (amount > hold.amountMinor) {
      throw validationError([{ path: 'amount', message: `must not exceed the held amount (${hold.amountMinor} minor units)` }]);
    }
    const key = `hold:${hold.id}:capture`;
    const status = effectiveStatus(hold, now);
    if (status === 'captured') {
      if (hold.capturedMinor !== amount) throw new AppError('conflict', `Hold ${hold.id} was already captured for ${hold.capturedMinor} minor units`);
      const { debit } = await debitLocked(tx, { teamId: hold.teamId, currency: hold.currency, appId: hold.appId, amountMinor: amount, idempotencyKey: key, holdId: hold.id }, now);
      return { hold, debit, replayed: true };
    }
    if (status !== 'open') {
      // An expired hold's row may still say open (lazy expiry); the refusal rolls back, so nothing is written.
      throw new AppError('conflict', `Hold ${hold.id} is ${status} and can no longer be captured`);
    }
    const { debit } = await debitLocked(tx, { teamId: hold.teamId, currency: hold.currency, appId: hold.appId, amountMinor: amount, idempotencyKey: key, holdId: hold.id }, now);
    const captured = await resolveHold(tx, hold.id, 'captured', amount, now);
    await noteBalance(tx, wallet, `debit:${debit.ledgerTransactionId}`, now);
    return { hold: captured, debit, replayed: false };
  });
}

/**
 * Releases an open hold. Releasing a released or expired hold answers with it as it is (nothing
 * more to release); releasing a captured hold is a conflict.
 */
export async function releaseHold(sql: Sql, input: { teamId: string; holdId: string }, now: Date = new Date()): Promise<{ hold: HoldRow; replayed: boolean }> {
  return inTransaction(sql, async (tx) => {
    const { hold, wallet } = await lockedHold(tx, input.teamId, input.holdId);
    const status = effectiveStatus(hold, now);
    if (status === 'captured') throw new AppError('conflict', `Hold ${hold.id} was captured and cannot be released`);
    if (status === 'released') return { hold, replayed: true };
    if (status === 'expired') {
      return { hold: hold.status === 'open' ? await resolveHold(tx, hold.id, 'expired', null, now) : hold, replayed: hold.status !== 'open' };
    }
    const released = await resolveHold(tx, hold.id, 'released', null, now);
    // Only re-arms the notices (the available balance rose), unless a held grant expired meanwhile.
    await noteBalance(tx, wallet, `release:${hold.id}`, now);
    return { hold: released, replayed: false };
  });
}
