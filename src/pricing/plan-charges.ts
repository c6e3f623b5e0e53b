/**
 * A plan's charges for one period: base fee, seats beyond the included ones, add-ons, and usage
 * rated per dimension. Exact and unrounded; period close rounds (by difference) when it posts.
 */
import type { Dec } from '../shared/money.js';
import { excess, min, mul, ONE, sum, toDec, ZERO } from './exact.js';
import { rateUsage, type UsageCounter, type UsageRatingResult } from './dimensions.js';
import type { AddOnPrice, DecimalString, SeatPrice, UsagePrice } from './types.js';

/** What a plan version charges (a PlanVersion from src/catalog has these fields). */
export interface PlanPrices {
  baseFee: DecimalString;
  seats: SeatPrice | null;
  addOns: Readonly<Record<string, AddOnPrice>>;
  usagePrices: readonly UsagePrice[];
}

/** What a team had and used in the period. */
export interface PeriodUsage {
  seats: DecimalString | Dec;
  /** Codes of the add-ons the team has. */
  addOns?: readonly string[];
  counters: readonly UsageCounter[];
}

export interface SeatRating {
  seats: Dec;
  included: Dec;
  billable: Dec;
  unitPrice: DecimalString;
  amount: Dec;
}

export interface AddOnRating {
  code: string;
  /** Seats for per-seat add-ons, 1 for flat ones. */
  quantity: Dec;
  unitPrice: DecimalString;
  per: AddOnPrice['per'];
  amount: Dec;
}

export interface PlanCharges {
  baseFee: Dec;
  seats: SeatRating | null;
  addOns: AddOnRating[];
  usage: UsageRatingResult;
  /** Exact, unrounded total of everything above. */
  amount: Dec;
}

/** Seats beyond the included ones, each at the seat price. */
export function rateSeats(price: SeatPrice, seats: DecimalString | Dec): SeatRating {
  const s = toDec(seats);
  if (s.isNegative() || !s.isInteger()) throw new RangeError(`seats must be a whole number ≥ 0, got ${s.toFixed()}`);
  const allowance = toDec(price.included);
  const billable = excess(s, allowance);
  return { seats: s, included: min(s, allowance), billable, unitPrice: price.unitPrice, amount: mul(billable, toDec(price.unitPrice)) };
}

export function rateAddOn(code: string, price: AddOnPrice, seats: Dec): AddOnRating {
  const quantity = price.per === 'seat' ? seats : ONE;
  return { code, quantity, unitPrice: price.price, per: price.per, amount: mul(quantity, toDec(price.price)) };
}

/** Everything a plan charges for one period of `usage`. */
export function ratePlanCharges(plan: PlanPrices, usage: PeriodUsage): PlanCharges {
  const seatCount = toDec(usage.seats);
  const seats = plan.seats ? rateSeats(plan.seats, seatCount) : null;
  const addOns = (usage.addOns ?? []).map((code) => {
    if (!Object.hasOwn(plan.addOns, code)) throw new RangeError(`The plan has no add-on ${code}`);
    return rateAddOn(code, plan.addOns[code]!, seatCount);
  });
  const rated = rateUsage(plan.usagePrices, usage.counters);
  const baseFee = toDec(plan.baseFee);
  return {
    baseFee,
    seats,
    addOns,
    usage: rated,
    amount: sum([baseFee, seats?.amount ?? ZERO, ...addOns.map((a) => a.amount), rated.amount]),
  };
}

/** A minimum commitment's shortfall: what is owed on top when spend stays below the commit. */
export function commitShortfall(commit: DecimalString | Dec, spent: DecimalString | Dec): Dec {
  return excess(toDec(commit), toDec(spent));
}
