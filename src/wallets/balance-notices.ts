/**
 * Low-balance notices: `wallet.balance_low` when the available balance (credit less open holds) falls
 * below the wallet's threshold, `wallet.depleted` when nothing is available. Each is raised once per
 * crossing: the wallet remembers that it noticed, and forgets when the balance is back above the mark
 * (a grant, a release), so the next fall raises it again. Recorded as team events in the transaction
 * of the movement that crossed, under the wallet's lock, keyed by that movement.
 */
import { recordTeamEvent } from '../platform/team-event-store.js';
import type { TxSql } from '../shared/db.js';
import { isSpendable } from './grant-consumption.js';
import { openGrants } from './grant-store.js';
import { openHeldMinor } from './hold-store.js';
import { setNoticed, type WalletRow } from './wallet-store.js';

export type BalanceNotice = 'wallet.balance_low' | 'wallet.depleted';

export interface NoticeState {
  lowBalanceThresholdMinor: bigint | null;
  lowBalanceNoticed: boolean;
  depletedNoticed: boolean;
}

/** Pure: the notices `availableMinor` raises from `state`, and the flags after. */
export function balanceNotices(state: NoticeState, availableMinor: bigint): { raise: BalanceNotice[]; lowBalanceNoticed: boolean; depletedNoticed: boolean } {
  const threshold = state.lowBalanceThresholdMinor;
  const low = threshold !== null && availableMinor < threshold;
  const depleted = availableMinor <= 0n;
  const raise: BalanceNotice[] = [];
  if (low && !state.lowBalanceNoticed) raise.push('wallet.balance_low');
  if (depleted && !state.depletedNoticed) raise.push('wallet.depleted');
  return { raise, lowBalanceNoticed: low, depletedNoticed: depleted };
}

/** Credit that can be spent at `now` less open holds (may be below 0 when a held grant expired). */
export async function availableMinor(tx: TxSql, teamId: string, currency: string, now: Date): Promise<bigint> {
  const balance = (await openGrants(tx, teamId, currency)).filter((g) => isSpendable(g, now)).reduce((s, g) => s + g.remainingMinor, 0n);
  return balance - (await openHeldMinor(tx, teamId, currency, now));
}

/**
 * After a movement of a locked wallet: raises the notices its new available balance calls for and
 * updates the wallet's flags. `cause` names the movement (e.g. `debit:<ledger transaction id>`); it
 * keys the events, so a movement raises each notice at most once.
 */
export async function noteBalance(tx: TxSql, wallet: WalletRow, cause: string, now: Date): Promise<void> {
  const available = await availableMinor(tx, wallet.teamId, wallet.currency, now);
  const next = balanceNotices(wallet, available);
  for (const type of next.raise) {
    await recordTeamEvent(tx, {
      teamId: wallet.teamId,
      type,
      detail: {
        currency: wallet.currency,
        availableMinor: available.toString(),
        thresholdMinor: wallet.lowBalanceThresholdMinor?.toString() ?? null,
        cause,
      },
      dedupKey: `${type}:${cause}`,
      occurredAt: now,
    });
  }
  if (next.lowBalanceNoticed !== wallet.lowBalanceNoticed || next.depletedNoticed !== wallet.depletedNoticed) {
    await setNoticed(tx, wallet.teamId, wallet.currency, next);
  }
}
