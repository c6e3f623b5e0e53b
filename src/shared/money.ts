/**
 * Money. Ledger amounts are `bigint` minor units at the currency's ledger scale (USD: 6, i.e.
 * micro-dollars); prices are exact decimals (decimal.js). Rounding is always explicit and named.
 * On the wire (HTTP, Temporal payloads) money is a decimal string, never a JS number.
 */
import { Decimal } from 'decimal.js';

/** A decimal.js constructor with enough precision for any price × quantity we meet (40 significant digits). */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Dec = Decimal;

/**
 * Half-even ("banker's") rounding: unbiased, so rounding-by-difference over many postings does not
 * drift in one direction. Used for every conversion from an exact amount to minor units.
 */
export const MONEY_ROUNDING = Decimal.ROUND_HALF_EVEN;

/** Ledger scale per currency (digits after the decimal point inside the ledger). */
export const LEDGER_SCALE: Record<string, number> = { USD: 6, EUR: 6, GBP: 6 };
/** Scale Stripe charges in (cents for these currencies). */
export const STRIPE_SCALE: Record<string, number> = { USD: 2, EUR: 2, GBP: 2 };

export function ledgerScale(currency: string): number {
  const s = LEDGER_SCALE[currency];
  if (s === undefined) throw new Error(`Unsupported currency ${currency}`);
  return s;
}

/** Exact decimal (major units) → minor units at `scale`, rounding half-even. */
export function toMinor(amount: Decimal.Value, scale: number, rounding: Decimal.Rounding = MONEY_ROUNDING): bigint {
  const scaled = new Dec(amount).times(new Dec(10).pow(scale)).toDecimalPlaces(0, rounding);
  return BigInt(scaled.toFixed(0));
}

/** Minor units at `scale` → exact decimal in major units. */
export function fromMinor(minor: bigint, scale: number): Decimal {
  return new Dec(minor.toString()).div(new Dec(10).pow(scale));
}

/** Minor units → a fixed-point decimal string in major units, e.g. 186500000n at scale 6 → "186.500000". */
export function formatMinor(minor: bigint, scale: number): string {
  return fromMinor(minor, scale).toFixed(scale);
}

/** Converts between scales (e.g. ledger micro-dollars → Stripe cents), rounding half-even. */
export function rescaleMinor(minor: bigint, fromScale: number, toScale: number): bigint {
  if (toScale >= fromScale) return minor * 10n ** BigInt(toScale - fromScale);
  return toMinor(fromMinor(minor, fromScale), toScale);
}

/** Parses a wire decimal string strictly (no exponent, no sign unless allowed, bounded digits). */
const DECIMAL_RE = /^-?(0|[1-9]\d{0,17})(\.\d{1,12})?$/;
export function parseDecimal(value: string): Decimal {
  if (!DECIMAL_RE.test(value)) throw new Error(`Not a decimal amount: ${value}`);
  return new Dec(value);
}
export const DECIMAL_PATTERN = DECIMAL_RE.source;
