/**
 * The price vocabulary of catalogs, rate cards and cost rates. Every number is a decimal string
 * (exact; never a JS number). The pricing engine (src/pricing/) turns a price and a quantity into an
 * exact amount with a line-by-line breakdown; rounding to minor units happens later, explicitly.
 */

/** A non-negative decimal string, e.g. "0.000002" or "25000". */
export type DecimalString = string;

export interface Tier {
  /** Upper bound of the tier in (raw) units, inclusive of the bound; null = no upper bound (last tier only). */
  upTo: DecimalString | null;
  /** Price per `per` units inside this tier. */
  unitPrice: DecimalString;
  /** Optional flat amount charged once when any quantity falls in this tier. */
  flatFee?: DecimalString;
}

/**
 * How a quantity becomes an amount. `per` is a power of ten (1, 1000, 1000000…): prices like
 * "$0.15 per 1M tokens" stay exact, and dividing by it never rounds.
 */
export type PriceModel =
  /** unitPrice per `per` units. */
  | { model: 'per_unit'; unitPrice: DecimalString; per?: DecimalString }
  /** packagePrice per started (rounding 'up') or completed ('down') package of packageSize units. */
  | { model: 'package'; packageSize: DecimalString; packagePrice: DecimalString; rounding: 'up' | 'down' }
  /** Each unit priced at the tier it falls in. */
  | { model: 'graduated'; tiers: Tier[]; per?: DecimalString }
  /** Every unit priced at the tier the total falls in. */
  | { model: 'volume'; tiers: Tier[]; per?: DecimalString }
  /** A fixed amount for the period, whatever the quantity (chargeWhenZero: also when nothing was used). */
  | { model: 'flat'; amount: DecimalString; chargeWhenZero: boolean }
  /**
   * No charge; optionally a fair-use cap. Above the cap, usage is charged at overageUnitPrice per
   * `per` units when one is given; without one the cap is for entitlements to enforce.
   */
  | { model: 'unlimited'; fairUseCap?: DecimalString; overageUnitPrice?: DecimalString; per?: DecimalString };

/** A usage price in a plan version or rate card. */
export interface UsagePrice {
  /** Stable key within its plan version, e.g. `llm-input-gpt-5`; invoice lines reference it. */
  key: string;
  displayName: string;
  meter: string;
  /** Dimension values this price applies to; the most specific matching price wins. */
  filter?: Record<string, string>;
  /** Allowance deducted from the quantity before the model applies. */
  included?: DecimalString;
  price: PriceModel;
}

/** Seats: the first `included` seats are part of the base fee; each further seat costs unitPrice. */
export interface SeatPrice {
  unitPrice: DecimalString;
  /** A whole number of seats. */
  included: DecimalString;
}

/** An add-on's price for one period: per seat (times the seat count) or flat. */
export interface AddOnPrice {
  price: DecimalString;
  per: 'seat' | 'flat';
}
