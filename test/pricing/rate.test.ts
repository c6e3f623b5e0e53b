/** Rating every price model: exact amounts, the pieces an invoice shows, and the laws that hold for any prices. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dec } from '../../src/shared/money.js';
import { rateModel, rateUsagePrice } from '../../src/pricing/rate.js';
import type { PriceModel, Tier } from '../../src/pricing/types.js';
import { decimal, per, price, priceModel, quantity, tiers } from './arbitraries.js';

const amount = (model: PriceModel, q: string) => rateModel(model, q).amount.toFixed();

describe('per-unit prices', () => {
  it('charge $0.15 per 1M tokens exactly, with no float anywhere', () => {
    const model: PriceModel = { model: 'per_unit', unitPrice: '0.15', per: '1000000' };
    expect(amount(model, '1')).toBe('0.00000015');
    expect(amount(model, '3333333')).toBe('0.49999995');
    expect(rateModel(model, '2000000').pieces).toEqual([{ kind: 'units', quantity: '2000000', unitPrice: '0.15', per: '1000000', amount: '0.3' }]);
  });

  it('charge $0.000002 per token exactly for very large counts', () => {
    expect(amount({ model: 'per_unit', unitPrice: '0.000002' }, '123456789012345')).toBe('246913578.02469');
  });

  it('refuse a per that is not a power of ten, since dividing by it could round', () => {
    expect(() => rateModel({ model: 'per_unit', unitPrice: '1', per: '3' }, '1')).toThrow(/power of ten/);
  });

  it('refuse, rather than round, an amount that would need more than 40 significant digits', () => {
    expect(() => rateModel({ model: 'per_unit', unitPrice: '0.123456789012' }, '123456789012345678.123456789012')).toThrow(/exact/);
  });

  it('refuse a negative quantity', () => {
    expect(() => rateModel({ model: 'per_unit', unitPrice: '1' }, '-1')).toThrow(/negative/);
  });
});

describe('package prices', () => {
  const up: PriceModel = { model: 'package', packageSize: '1000', packagePrice: '2', rounding: 'up' };
  const down: PriceModel = { ...up, rounding: 'down' } as PriceModel;

  it('charge every started package when rounding up, and only completed ones when rounding down', () => {
    expect([amount(up, '0'), amount(up, '1'), amount(up, '1000'), amount(up, '1000.5'), amount(up, '2500')]).toEqual(['0', '2', '2', '4', '6']);
    expect([amount(down, '999'), amount(down, '1000'), amount(down, '2999.999')]).toEqual(['0', '2', '4']);
  });

  it('cover the quantity with the fewest packages (up) or the most that fit (down)', () => {
    fc.assert(
      fc.property(decimal({ min: 1, max: 5000, scale: 3 }), quantity, (size, q) => {
        const base = { model: 'package' as const, packageSize: size, packagePrice: '1' };
        const nUp = new Dec(rateModel({ ...base, rounding: 'up' }, q).pieces[0]!.packages!);
        const nDown = new Dec(rateModel({ ...base, rounding: 'down' }, q).pieces[0]!.packages!);
        const qd = new Dec(q);
        expect(nUp.times(size).gte(qd) && nUp.minus(1).times(size).lt(qd)).toBe(true);
        expect(nDown.times(size).lte(qd) && nDown.plus(1).times(size).gt(qd)).toBe(true);
      }),
    );
  });
});

describe('graduated prices', () => {
  const seed004: Tier[] = [
    { upTo: '10000', unitPrice: '0.01' },
    { upTo: '50000', unitPrice: '0.008' },
    { upTo: null, unitPrice: '0.005' },
  ];

  it('price each unit at the tier it falls in and show each tier touched', () => {
    const r = rateModel({ model: 'graduated', tiers: seed004 }, '60000');
    expect(r.amount.toFixed()).toBe('470');
    expect(r.pieces.map((p) => [p.tier, p.quantity, p.amount])).toEqual([
      [1, '10000', '100'],
      [2, '40000', '320'],
      [3, '10000', '50'],
    ]);
  });

  it('charge a tier flat fee once, when the tier is reached', () => {
    const model: PriceModel = { model: 'graduated', tiers: [{ upTo: '10', unitPrice: '1', flatFee: '5' }, { upTo: null, unitPrice: '0.5', flatFee: '20' }] };
    expect([amount(model, '0'), amount(model, '1'), amount(model, '10'), amount(model, '11')]).toEqual(['0', '6', '15', '35.5']);
  });

  it('equal the sum of whole tiers at every tier boundary', () => {
    fc.assert(
      fc.property(tiers(), per, (ts, p) => {
        let lower = new Dec(0);
        let expected = new Dec(0);
        for (const t of ts.slice(0, -1)) {
          expected = expected.plus(new Dec(t.upTo!).minus(lower).times(t.unitPrice).div(p));
          lower = new Dec(t.upTo!);
          expect(rateModel({ model: 'graduated', tiers: ts, per: p }, t.upTo!).amount.eq(expected)).toBe(true);
        }
      }),
    );
  });

  it('total exactly the sum of its pieces, whose quantities add up to the quantity', () => {
    fc.assert(
      fc.property(tiers({ flatFees: true }), quantity, (ts, q) => {
        const r = rateModel({ model: 'graduated', tiers: ts }, q);
        const units = r.pieces.filter((p) => p.kind === 'tier');
        expect(units.reduce((s, p) => s.plus(p.quantity), new Dec(0)).eq(q)).toBe(true);
        expect(r.pieces.reduce((s, p) => s.plus(p.amount), new Dec(0)).eq(r.amount)).toBe(true);
      }),
    );
  });

  it('never cost more than per-unit at the first tier price when tier prices decrease', () => {
    fc.assert(
      fc.property(tiers({ prices: 'decreasing' }), quantity, (ts, q) => {
        const graduated = rateModel({ model: 'graduated', tiers: ts }, q).amount;
        const flatRate = rateModel({ model: 'per_unit', unitPrice: ts[0]!.unitPrice }, q).amount;
        expect(graduated.lte(flatRate)).toBe(true);
      }),
    );
  });
});

describe('volume prices', () => {
  it('price every unit at the tier the total falls in', () => {
    const model: PriceModel = { model: 'volume', tiers: [{ upTo: '10000', unitPrice: '0.01' }, { upTo: null, unitPrice: '0.008', flatFee: '1' }] };
    expect(amount(model, '0')).toBe('0');
    expect(amount(model, '10000')).toBe('100');
    expect(amount(model, '25000')).toBe('201');
    expect(rateModel(model, '25000').pieces.map((p) => [p.kind, p.tier])).toEqual([['units', 2], ['tier_flat_fee', 2]]);
  });

  it('can charge less for more at a tier boundary when prices fall: that cliff is the model, not a bug', () => {
    const model: PriceModel = { model: 'volume', tiers: [{ upTo: '10', unitPrice: '1' }, { upTo: null, unitPrice: '0.5' }] };
    expect(amount(model, '10')).toBe('10');
    expect(amount(model, '11')).toBe('5.5');
  });

  it('equal graduated with one tier, cost at least graduated when prices rise and at most when they fall', () => {
    fc.assert(
      fc.property(tiers({ prices: 'increasing' }), tiers({ prices: 'decreasing' }), quantity, (rising, falling, q) => {
        const rate = (model: 'volume' | 'graduated', ts: Tier[]) => rateModel({ model, tiers: ts }, q).amount;
        expect(rate('volume', rising).gte(rate('graduated', rising))).toBe(true);
        expect(rate('volume', falling).lte(rate('graduated', falling))).toBe(true);
        const single = [{ upTo: null, unitPrice: rising[0]!.unitPrice }];
        expect(rate('volume', single).eq(rate('graduated', single))).toBe(true);
      }),
    );
  });

  it('is monotone in quantity when tier prices and flat fees never fall', () => {
    fc.assert(
      fc.property(tiers({ prices: 'increasing', flatFees: true }), quantity, quantity, (ts, a, b) => {
        const [lo, hi] = new Dec(a).lte(b) ? [a, b] : [b, a];
        const model: PriceModel = { model: 'volume', tiers: ts };
        expect(rateModel(model, lo).amount.lte(rateModel(model, hi).amount)).toBe(true);
      }),
    );
  });
});

describe('flat and unlimited prices', () => {
  it('charge a flat amount when used, and when unused only with chargeWhenZero', () => {
    expect(amount({ model: 'flat', amount: '49', chargeWhenZero: false }, '0')).toBe('0');
    expect(amount({ model: 'flat', amount: '49', chargeWhenZero: false }, '0.001')).toBe('49');
    expect(amount({ model: 'flat', amount: '49', chargeWhenZero: true }, '0')).toBe('49');
  });

  it('charge nothing up to the fair-use cap and the overage price above it', () => {
    const model: PriceModel = { model: 'unlimited', fairUseCap: '1000000', overageUnitPrice: '0.5', per: '1000' };
    expect(amount(model, '1000000')).toBe('0');
    expect(rateModel(model, '1002000').pieces).toEqual([
      { kind: 'unlimited', quantity: '1000000', amount: '0' },
      { kind: 'overage', quantity: '2000', unitPrice: '0.5', per: '1000', amount: '1' },
    ]);
    expect(amount({ model: 'unlimited' }, '99999999')).toBe('0');
    expect(amount({ model: 'unlimited', fairUseCap: '10' }, '20')).toBe('0');
  });
});

describe('every price model', () => {
  it('is monotone non-decreasing in quantity (volume: see its own law)', () => {
    fc.assert(
      fc.property(priceModel, quantity, quantity, (model, a, b) => {
        const [lo, hi] = new Dec(a).lte(b) ? [a, b] : [b, a];
        expect(rateModel(model, lo).amount.lte(rateModel(model, hi).amount)).toBe(true);
      }),
    );
  });

  it('charges nothing for usage within the allowance and the model on the rest above it', () => {
    fc.assert(
      fc.property(priceModel, quantity, quantity, (model, included, q) => {
        const r = rateUsagePrice({ included, price: model }, q);
        const billable = Dec.max(new Dec(q).minus(included), 0);
        expect(r.billable.eq(billable)).toBe(true);
        expect(r.included.plus(r.billable).eq(q)).toBe(true);
        expect(r.amount.eq(rateModel(model, billable).amount)).toBe(true);
        if (new Dec(q).lte(included)) expect(r.amount.eq(rateModel(model, '0').amount)).toBe(true);
      }),
    );
  });

  it('returns amounts that are exact: re-rating a piece from its own numbers gives the same amount', () => {
    fc.assert(
      fc.property(price, per, quantity, (unitPrice, p, q) => {
        const r = rateModel({ model: 'per_unit', unitPrice, per: p }, q);
        expect(r.amount.times(p).eq(new Dec(q).times(unitPrice))).toBe(true);
      }),
    );
  });
});

describe('included allowances', () => {
  it('show the allowance used as its own zero-amount piece', () => {
    const r = rateUsagePrice({ included: '1000000', price: { model: 'per_unit', unitPrice: '0.01', per: '1000' } }, '1500000');
    expect(r.amount.toFixed()).toBe('5');
    expect(r.pieces).toEqual([
      { kind: 'included', quantity: '1000000', amount: '0' },
      { kind: 'units', quantity: '500000', unitPrice: '0.01', per: '1000', amount: '5' },
    ]);
  });
});
