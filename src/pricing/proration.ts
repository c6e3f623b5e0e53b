/**
 * Proration by seconds of the period. The share of `amount` for [from, to) is C(to) − C(from), where
 * C(t) = amount × (seconds from periodStart to t) / (seconds in the period), rounded half-even once
 * at PRORATION_SCALE decimal places. Because every piece is a difference of the same C, prorating the
 * whole period gives exactly `amount` and the pieces of any split add up to exactly the whole.
 * When the division terminates within the scale (a 30-day month split at a day, a half…), the
 * result is the exact quotient.
 */
import { Dec } from '../shared/money.js';
import { toDec } from './exact.js';
import type { DecimalString } from './types.js';

/** Decimal places of a prorated amount: fourteen below a micro-dollar, far below any minor unit. */
export const PRORATION_SCALE = 20;
const SCALE_FACTOR = 10n ** BigInt(PRORATION_SCALE);

/** An instant: a Date, an ISO-8601 string, or epoch milliseconds (workflow code passes strings). */
export type Instant = Date | string | number;

function epochSeconds(t: Instant, name: string): bigint {
  const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`${name} is not a valid instant: ${String(t)}`);
  // Whole seconds: proration is by seconds of the period.
  return BigInt(Math.floor(ms / 1000));
}

/** n / d rounded half-even, for d > 0. */
function divideHalfEven(n: bigint, d: bigint): bigint {
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let q = abs / d;
  const twiceRemainder = (abs % d) * 2n;
  if (twiceRemainder > d || (twiceRemainder === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** C(t): the share of `amount` accrued from periodStart to t (clamped to the period). */
function accrued(amountScaled: bigint, t: bigint, start: bigint, end: bigint): bigint {
  const clamped = t < start ? start : t > end ? end : t;
  return divideHalfEven(amountScaled * (clamped - start), end - start);
}

/**
 * The part of `amount` (for the whole period [periodStart, periodEnd)) that falls in [from, to).
 * from/to outside the period are clamped to it. Negative amounts (credits) prorate the same way.
 */
export function prorate(amount: DecimalString | Dec, from: Instant, to: Instant, periodStart: Instant, periodEnd: Instant): Dec {
  const a = toDec(amount);
  if (a.decimalPlaces() > PRORATION_SCALE) throw new RangeError(`amount has more than ${PRORATION_SCALE} decimal places: ${a.toFixed()}`);
  const [f, t, start, end] = [epochSeconds(from, 'from'), epochSeconds(to, 'to'), epochSeconds(periodStart, 'periodStart'), epochSeconds(periodEnd, 'periodEnd')];
  if (end <= start) throw new RangeError('periodEnd must be after periodStart');
  if (t < f) throw new RangeError('to must not be before from');
  const scaled = BigInt(a.times(SCALE_FACTOR.toString()).toFixed(0));
  const share = accrued(scaled, t, start, end) - accrued(scaled, f, start, end);
  // The constructor keeps every digit (it does not round to Dec's precision), so this is exact.
  return new Dec(`${share}e-${PRORATION_SCALE}`);
}
