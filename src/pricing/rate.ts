/**
 * Rating: a price and a quantity in, the exact (unrounded) amount out, with the pieces an invoice
 * line shows (allowance used, each tier touched, packages, flat fees, fair-use overage).
 * Pure: no I/O and no Node modules, so workflow code may call it too.
 */
import type { Dec } from '../shared/money.js';
import { excess, extend, min, mul, perUnits, sub, sum, toDec, wholeMultiples, ZERO } from './exact.js';
import type { DecimalString, PriceModel, Tier, UsagePrice } from './types.js';

export type PieceKind =
  /** Usage covered by the price's allowance (amount 0). */
  | 'included'
  /** Units at a unit price (per_unit, and volume: all units at the tier reached). */
  | 'units'
  /** Units inside one tier of a graduated price. */
  | 'tier'
  /** The flat fee of a tier that was reached. */
  | 'tier_flat_fee'
  /** Packages of units. */
  | 'packages'
  /** A flat amount. */
  | 'flat'
  /** Usage of an unlimited price up to its fair-use cap (amount 0). */
  | 'unlimited'
  /** Usage above a fair-use cap, at the overage price. */
  | 'overage';

/** One piece of a rating; every number is a decimal string an invoice line can print as is. */
export interface RatedPiece {
  kind: PieceKind;
  /** 1-based tier number for graduated and volume prices. */
  tier?: number;
  quantity: DecimalString;
  /** Price per `per` units (or per package for packages, per tier for a tier flat fee). */
  unitPrice?: DecimalString;
  per?: DecimalString;
  /** Packages charged (packages pieces). */
  packages?: DecimalString;
  amount: DecimalString;
}

export interface ModelRating {
  /** Exact, unrounded. */
  amount: Dec;
  pieces: RatedPiece[];
}

export interface UsageRating extends ModelRating {
  /** The quantity rated, before the allowance. */
  quantity: Dec;
  /** The part of the quantity the allowance covered. */
  included: Dec;
  /** The part the price model was applied to. */
  billable: Dec;
}

const str = (d: Dec) => d.toFixed();

/** A piece with its amount still as Dec, so totals are summed without re-parsing strings. */
interface Part {
  piece: RatedPiece;
  amount: Dec;
}

function piece(kind: PieceKind, quantity: Dec, amount: Dec, extra: Omit<RatedPiece, 'kind' | 'quantity' | 'amount'> = {}): Part {
  return { piece: { kind, ...extra, quantity: str(quantity), amount: str(amount) }, amount };
}

function rating(parts: Part[]): ModelRating {
  return { amount: sum(parts.map((p) => p.amount)), pieces: parts.map((p) => p.piece) };
}

function tierUpperBound(tier: Tier): Dec | null {
  return tier.upTo === null ? null : toDec(tier.upTo);
}

function assertNonNegative(quantity: Dec): void {
  if (quantity.isNegative()) throw new RangeError(`Cannot rate a negative quantity (${str(quantity)})`);
}

/** Each unit priced at the tier it falls in; a tier's flat fee once the tier is reached. */
function rateGraduated(tiers: Tier[], per: DecimalString | undefined, quantity: Dec): ModelRating {
  const perDec = perUnits(per);
  const parts: Part[] = [];
  let lower = ZERO;
  for (const [i, tier] of tiers.entries()) {
    if (!quantity.gt(lower)) break;
    const upper = tierUpperBound(tier);
    const inTier = sub(upper === null ? quantity : min(quantity, upper), lower);
    parts.push(piece('tier', inTier, extend(inTier, toDec(tier.unitPrice), perDec), { tier: i + 1, unitPrice: tier.unitPrice, per: str(perDec) }));
    if (tier.flatFee !== undefined) parts.push(piece('tier_flat_fee', inTier, toDec(tier.flatFee), { tier: i + 1, unitPrice: tier.flatFee }));
    if (upper === null) break;
    lower = upper;
  }
  if (quantity.gt(lower) && tiers.at(-1)?.upTo !== null) {
    throw new RangeError(`Quantity ${str(quantity)} exceeds the last tier; the last tier must be unbounded`);
  }
  return rating(parts);
}

/** Every unit priced at the tier the total falls in. */
function rateVolume(tiers: Tier[], per: DecimalString | undefined, quantity: Dec): ModelRating {
  if (quantity.isZero()) return rating([]);
  const perDec = perUnits(per);
  const index = tiers.findIndex((t) => t.upTo === null || quantity.lte(toDec(t.upTo)));
  const tier = tiers[index];
  if (!tier) throw new RangeError(`Quantity ${str(quantity)} exceeds the last tier; the last tier must be unbounded`);
  const parts = [piece('units', quantity, extend(quantity, toDec(tier.unitPrice), perDec), { tier: index + 1, unitPrice: tier.unitPrice, per: str(perDec) })];
  if (tier.flatFee !== undefined) parts.push(piece('tier_flat_fee', quantity, toDec(tier.flatFee), { tier: index + 1, unitPrice: tier.flatFee }));
  return rating(parts);
}

function ratePackages(size: Dec, packagePrice: DecimalString, rounding: 'up' | 'down', quantity: Dec): ModelRating {
  const whole = wholeMultiples(quantity, size);
  const packages = rounding === 'up' && mul(whole, size).lt(quantity) ? whole.plus(1) : whole;
  return rating([piece('packages', quantity, mul(packages, toDec(packagePrice)), { packages: str(packages), unitPrice: packagePrice, per: str(size) })]);
}

function rateUnlimited(model: Extract<PriceModel, { model: 'unlimited' }>, quantity: Dec): ModelRating {
  const cap = model.fairUseCap === undefined ? null : toDec(model.fairUseCap);
  const covered = cap === null ? quantity : min(quantity, cap);
  const parts = [piece('unlimited', covered, ZERO)];
  const over = cap === null ? ZERO : excess(quantity, cap);
  if (over.gt(0) && model.overageUnitPrice !== undefined) {
    const perDec = perUnits(model.per);
    parts.push(piece('overage', over, extend(over, toDec(model.overageUnitPrice), perDec), { unitPrice: model.overageUnitPrice, per: str(perDec) }));
  }
  return rating(parts);
}

/** Rates a price model for a quantity (after any allowance): exact amount and its pieces. */
export function rateModel(model: PriceModel, quantity: DecimalString | Dec): ModelRating {
  const q = toDec(quantity);
  assertNonNegative(q);
  switch (model.model) {
    case 'per_unit': {
      const per = perUnits(model.per);
      return rating([piece('units', q, extend(q, toDec(model.unitPrice), per), { unitPrice: model.unitPrice, per: str(per) })]);
    }
    case 'package':
      return ratePackages(toDec(model.packageSize), model.packagePrice, model.rounding, q);
    case 'graduated':
      return rateGraduated(model.tiers, model.per, q);
    case 'volume':
      return rateVolume(model.tiers, model.per, q);
    case 'flat':
      return q.gt(0) || model.chargeWhenZero ? rating([piece('flat', q, toDec(model.amount))]) : rating([]);
    case 'unlimited':
      return rateUnlimited(model, q);
  }
}

/** Rates a usage price: the allowance first, then the model on what is left. */
export function rateUsagePrice(price: Pick<UsagePrice, 'included' | 'price'>, quantity: DecimalString | Dec): UsageRating {
  const q = toDec(quantity);
  assertNonNegative(q);
  const allowance = price.included === undefined ? ZERO : toDec(price.included);
  const included = min(q, allowance);
  const billable = sub(q, included);
  const model = rateModel(price.price, billable);
  const pieces = allowance.gt(0) ? [piece('included', included, ZERO).piece, ...model.pieces] : model.pieces;
  return { quantity: q, included, billable, amount: model.amount, pieces };
}
