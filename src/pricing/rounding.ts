/**
 * From exact amounts to minor units, with the rounding mode always named. Rounding by difference
 * keeps many small postings (one per usage batch) from drifting away from the rounded total.
 */
import { Dec, toMinor } from '../shared/money.js';
import { toDec } from './exact.js';
import type { DecimalString } from './types.js';

/** Rounding modes by name. `half_even` (MONEY_ROUNDING) is the default everywhere. */
export const ROUNDING_MODES = {
  half_even: Dec.ROUND_HALF_EVEN,
  half_up: Dec.ROUND_HALF_UP,
  /** Away from zero. */
  up: Dec.ROUND_UP,
  /** Towards zero. */
  down: Dec.ROUND_DOWN,
} as const;
export type RoundingMode = keyof typeof ROUNDING_MODES;

/** An exact amount in major units → minor units at `scale` (USD ledger: 6, Stripe: 2). */
export function roundToMinor(amount: DecimalString | Dec, scale: number, mode: RoundingMode = 'half_even'): bigint {
  return toMinor(toDec(amount), scale, ROUNDING_MODES[mode]);
}

/**
 * Rounding by difference. For one (team, meter, period) keep the exact cumulative amount; when it
 * moves from `previousTotal` (null before the first posting) to `currentTotal`, post
 * round(currentTotal) − round(previousTotal). However many postings there are, they sum to
 * round(latest exact total). The result is negative when a correction lowers the total.
 */
export function postingByDifference(
  previousTotal: DecimalString | Dec | null,
  currentTotal: DecimalString | Dec,
  scale: number,
  mode: RoundingMode = 'half_even',
): bigint {
  const before = previousTotal === null ? 0n : roundToMinor(previousTotal, scale, mode);
  return roundToMinor(currentTotal, scale, mode) - before;
}
