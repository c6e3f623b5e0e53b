/** Which low-balance notices an available balance raises: once per crossing, re-armed above the mark. */
import { describe, expect, it } from 'vitest';
import { balanceNotices, type NoticeState } from '../../src/wallets/balance-notices.js';

const state = (o: Partial<NoticeState> = {}): NoticeState => ({ lowBalanceThresholdMinor: 500n, lowBalanceNoticed: false, depletedNoticed: false, ...o });

describe('balanceNotices', () => {
  it('raises balance_low below the threshold, not at it', () => {
    expect(balanceNotices(state(), 500n)).toEqual({ raise: [], lowBalanceNoticed: false, depletedNoticed: false });
    expect(balanceNotices(state(), 499n)).toEqual({ raise: ['wallet.balance_low'], lowBalanceNoticed: true, depletedNoticed: false });
  });

  it('raises both when the balance drops from above the threshold to nothing in one movement', () => {
    expect(balanceNotices(state(), 0n).raise).toEqual(['wallet.balance_low', 'wallet.depleted']);
    expect(balanceNotices(state(), -20n).raise).toEqual(['wallet.balance_low', 'wallet.depleted']);
  });

  it('raises nothing again while the crossing lasts, and re-arms once the balance is back above', () => {
    const noticed = state({ lowBalanceNoticed: true, depletedNoticed: true });
    expect(balanceNotices(noticed, 0n)).toEqual({ raise: [], lowBalanceNoticed: true, depletedNoticed: true });
    expect(balanceNotices(noticed, 100n)).toEqual({ raise: [], lowBalanceNoticed: true, depletedNoticed: false });
    expect(balanceNotices(noticed, 500n)).toEqual({ raise: [], lowBalanceNoticed: false, depletedNoticed: false });
  });

  it('never raises balance_low without a threshold, and clears a notice when the threshold is removed', () => {
    expect(balanceNotices(state({ lowBalanceThresholdMinor: null }), 1n).raise).toEqual([]);
    expect(balanceNotices(state({ lowBalanceThresholdMinor: null, lowBalanceNoticed: true }), 1n).lowBalanceNoticed).toBe(false);
    expect(balanceNotices(state({ lowBalanceThresholdMinor: null }), 0n).raise).toEqual(['wallet.depleted']);
  });
});
