/** Proration by seconds of the period: exact where the division terminates, and always additive over a split. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dec } from '../../src/shared/money.js';
import { prorate } from '../../src/pricing/proration.js';
import { decimal } from './arbitraries.js';

const start = Date.parse('2025-04-01T00:00:00Z');
const end = Date.parse('2025-05-01T00:00:00Z'); // 30 days
const DAY_MS = 86_400_000;

describe('prorating an amount over a period', () => {
  it('gives exactly half for half of a 30-day month, and a day for one day of $30', () => {
    expect(prorate('99', start, start + 15 * DAY_MS, start, end).toFixed()).toBe('49.5');
    expect(prorate('30', '2025-04-10T00:00:00Z', '2025-04-11T00:00:00Z', start, end).toFixed()).toBe('1');
  });

  it('rounds a non-terminating share half-even at 20 decimal places', () => {
    expect(prorate('10', start, start + 10 * DAY_MS, start, end).toFixed()).toBe('3.33333333333333333333');
    expect(prorate('20', start, start + 10 * DAY_MS, start, end).toFixed()).toBe('6.66666666666666666667');
  });

  it('clamps from and to to the period', () => {
    expect(prorate('99', start - DAY_MS, end + DAY_MS, start, end).toFixed()).toBe('99');
  });

  it('refuses an empty period or an interval that ends before it starts', () => {
    expect(() => prorate('1', start, end, end, start)).toThrow(/periodEnd/);
    expect(() => prorate('1', end, start, start, end)).toThrow(/before/);
  });

  it('gives the whole amount for the whole period, for any amount and period length', () => {
    fc.assert(
      fc.property(decimal({ max: 1_000_000, scale: 12 }), fc.integer({ min: 1, max: 400 * 86_400 }), (amount, seconds) => {
        expect(prorate(amount, start, start + seconds * 1000, start, start + seconds * 1000).eq(amount)).toBe(true);
      }),
    );
  });

  it('is additive: the pieces of any split of the period sum to exactly the whole', () => {
    fc.assert(
      fc.property(
        decimal({ max: 1_000_000, scale: 12 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 30 * 86_400 - 1 }), { maxLength: 8 }),
        fc.boolean(),
        (amount, cuts, negate) => {
          const a = negate ? new Dec(amount).neg().toFixed() : amount;
          const points = [start, ...[...cuts].sort((x, y) => x - y).map((s) => start + s * 1000), end];
          const pieces = points.slice(1).map((to, i) => prorate(a, points[i]!, to, start, end));
          expect(pieces.reduce((s, p) => s.plus(p), new Dec(0)).eq(a)).toBe(true);
          for (const p of pieces) expect(p.abs().lte(new Dec(a).abs())).toBe(true);
        },
      ),
    );
  });
});
