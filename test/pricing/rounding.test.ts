/** Rounding to minor units with named modes, and rounding by difference that never drifts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dec } from '../../src/shared/money.js';
import { postingByDifference, roundToMinor, ROUNDING_MODES, type RoundingMode } from '../../src/pricing/rounding.js';
import { decimal } from './arbitraries.js';

const modes = Object.keys(ROUNDING_MODES) as RoundingMode[];

describe('rounding to minor units', () => {
  it('rounds half-even by default and as named otherwise', () => {
    expect(roundToMinor('0.125', 2)).toBe(12n);
    expect(roundToMinor('0.135', 2)).toBe(14n);
    expect(roundToMinor('0.125', 2, 'half_up')).toBe(13n);
    expect(roundToMinor('0.121', 2, 'up')).toBe(13n);
    expect(roundToMinor('0.129', 2, 'down')).toBe(12n);
    expect(roundToMinor('186.5', 6)).toBe(186_500_000n);
  });
});

describe('rounding by difference', () => {
  it('posts only the change in the rounded total', () => {
    // Three usage batches of $0.0000004 each: rounding each alone would post 0 three times.
    expect(postingByDifference(null, '0.0000004', 6)).toBe(0n);
    expect(postingByDifference('0.0000004', '0.0000008', 6)).toBe(1n);
    expect(postingByDifference('0.0000008', '0.0000012', 6)).toBe(0n);
  });

  it('makes the postings sum to exactly the rounded exact total, whatever the increments and mode', () => {
    fc.assert(
      fc.property(
        fc.array(decimal({ max: 5, scale: 9 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.constantFrom(...modes),
        fc.constantFrom(2, 6),
        (increments, corrections, mode, scale) => {
          let previous: Dec | null = null;
          let total = new Dec(0);
          let posted = 0n;
          increments.forEach((inc, i) => {
            // Some steps are corrections that lower the total.
            total = corrections[i] ? total.minus(inc) : total.plus(inc);
            posted += postingByDifference(previous, total, scale, mode);
            previous = total;
          });
          expect(posted).toBe(roundToMinor(total, scale, mode));
        },
      ),
    );
  });
});
