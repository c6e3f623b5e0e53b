/**
 * Exact decimal arithmetic for the pricing engine. Dec carries 40 significant digits; a product or
 * sum that would need more is refused with a RangeError instead of being rounded silently, so every
 * amount the engine returns is exact (realistic prices and counters use well under half of that).
 */
import { Dec } from '../shared/money.js';
import type { DecimalString } from './types.js';

const DIGITS_MAX = Dec.precision;
const POWER_OF_TEN = /^10*$/;

export const ZERO = new Dec(0);
export const ONE = new Dec(1);

/** A decimal string (or Dec) as Dec; rejects NaN and infinities. */
export function toDec(value: DecimalString | Dec): Dec {
  const d = new Dec(value);
  if (!d.isFinite()) throw new RangeError(`Not a finite decimal: ${String(value)}`);
  return d;
}

function inexact(op: string, a: Dec, b: Dec): RangeError {
  return new RangeError(`${a.toFixed()} ${op} ${b.toFixed()} needs more than ${DIGITS_MAX} significant digits to stay exact`);
}

export function mul(a: Dec, b: Dec): Dec {
  if (!a.isZero() && !b.isZero() && a.sd() + b.sd() > DIGITS_MAX) throw inexact('×', a, b);
  return a.times(b);
}

export function add(a: Dec, b: Dec): Dec {
  if (!a.isZero() && !b.isZero()) {
    // Digits from the highest place either operand reaches (plus a carry) down to the lowest decimal place.
    const needed = Math.max(a.e, b.e) + 2 + Math.max(a.decimalPlaces(), b.decimalPlaces());
    if (needed > DIGITS_MAX) throw inexact('+', a, b);
  }
  return a.plus(b);
}

export function sub(a: Dec, b: Dec): Dec {
  return add(a, b.neg());
}

export function sum(values: readonly Dec[]): Dec {
  return values.reduce(add, ZERO);
}

export function min(a: Dec, b: Dec): Dec {
  return a.lte(b) ? a : b;
}

/** max(0, a − b): what is left of `a` after taking `b` away. */
export function excess(a: Dec, b: Dec): Dec {
  return a.gt(b) ? sub(a, b) : ZERO;
}

/** The `per` of a price as Dec, asserting it is a power of ten so that dividing by it is exact. */
export function perUnits(per: DecimalString | undefined): Dec {
  const p = per ?? '1';
  if (!POWER_OF_TEN.test(p)) throw new RangeError(`per must be a power of ten (1, 10, 1000…), got ${p}`);
  return new Dec(p);
}

/** quantity × unitPrice / per, exactly. */
export function extend(quantity: Dec, unitPrice: Dec, per: Dec): Dec {
  return mul(quantity, unitPrice).div(per);
}

/** The largest whole n with n × size ≤ quantity, computed without trusting a rounded quotient. */
export function wholeMultiples(quantity: Dec, size: Dec): Dec {
  if (!size.gt(0)) throw new RangeError(`size must be positive, got ${size.toFixed()}`);
  let n = quantity.div(size).floor();
  while (mul(n, size).gt(quantity)) n = n.minus(1);
  while (mul(n.plus(1), size).lte(quantity)) n = n.plus(1);
  return n;
}
