/** fast-check generators for the price vocabulary: exact decimal strings, tiers, price models. */
import fc from 'fast-check';
import { Dec } from '../../src/shared/money.js';
import type { PriceModel, Tier } from '../../src/pricing/types.js';

/** A non-negative decimal string with up to `scale` decimals and at most `max` in value. */
export function decimal(opts: { max?: number; scale?: number; min?: number } = {}): fc.Arbitrary<string> {
  const scale = opts.scale ?? 6;
  const unit = 10n ** BigInt(scale);
  return fc
    .bigInt({ min: BigInt(opts.min ?? 0) * unit, max: BigInt(opts.max ?? 1_000_000) * unit })
    .map((n) => new Dec(n.toString()).div(unit.toString()).toFixed());
}

export const quantity = decimal({ max: 10_000_000, scale: 3 });
export const price = decimal({ max: 100, scale: 6 });
export const per = fc.constantFrom('1', '1000', '1000000');

/** Ascending, distinct tier bounds; the last tier unbounded. */
export function tiers(opts: { prices?: 'any' | 'increasing' | 'decreasing'; flatFees?: boolean } = {}): fc.Arbitrary<Tier[]> {
  return fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: 1, max: 5_000_000 }), { minLength: 0, maxLength: 5 }),
      fc.array(price, { minLength: 6, maxLength: 6 }),
      fc.array(decimal({ max: 50, scale: 2 }), { minLength: 6, maxLength: 6 }),
    )
    .map(([bounds, prices, fees]) => {
      const sortedBounds = [...bounds].sort((a, b) => a - b);
      const n = sortedBounds.length + 1;
      let unitPrices = prices.slice(0, n);
      if (opts.prices === 'increasing') unitPrices = [...unitPrices].sort((a, b) => new Dec(a).cmp(b));
      if (opts.prices === 'decreasing') unitPrices = [...unitPrices].sort((a, b) => new Dec(b).cmp(a));
      const flatFees = [...fees.slice(0, n)].sort((a, b) => new Dec(a).cmp(b));
      return unitPrices.map((unitPrice, i) => ({
        upTo: i < sortedBounds.length ? String(sortedBounds[i]) : null,
        unitPrice,
        ...(opts.flatFees ? { flatFee: flatFees[i]! } : {}),
      }));
    });
}

export const priceModel: fc.Arbitrary<PriceModel> = fc.oneof(
  fc.record({ model: fc.constant('per_unit' as const), unitPrice: price, per }),
  fc.record({
    model: fc.constant('package' as const),
    packageSize: decimal({ min: 1, max: 10_000, scale: 0 }),
    packagePrice: price,
    rounding: fc.constantFrom('up' as const, 'down' as const),
  }),
  fc.record({ model: fc.constant('graduated' as const), tiers: tiers({ flatFees: true }), per }),
  fc.record({ model: fc.constant('flat' as const), amount: price, chargeWhenZero: fc.boolean() }),
  fc.record({ model: fc.constant('unlimited' as const), fairUseCap: quantity, overageUnitPrice: price, per }),
);
