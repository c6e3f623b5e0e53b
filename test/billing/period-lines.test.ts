/** periodLines: the lines of a period's invoice, computed purely from what the period was. */
import { describe, expect, it } from 'vitest';
import { periodLines, totalCents, type InvoiceLineDraft, type PeriodInputs } from '../../src/billing/period-lines.js';
import { Dec } from '../../src/shared/money.js';
import { planVersion } from './plan-versions.js';

const team = planVersion();
const bigger = planVersion({ baseFee: '50' }, 'team-v2');
const START = '2026-03-01T00:00:00.000Z';
const MID = '2026-03-16T12:00:00.000Z'; // half of a 31-day March
const END = '2026-04-01T00:00:00.000Z';
const NEXT = '2026-05-01T00:00:00.000Z';

function inputs(o: Partial<PeriodInputs> = {}): PeriodInputs {
  return {
    periodStart: START,
    periodEnd: END,
    nextPeriodEnd: NEXT,
    end: { plan: team, seats: 1, addOns: [] },
    changes: [],
    usage: { plan: team, counters: [] },
    adjustments: [],
    ...o,
  };
}

const brief = (lines: InvoiceLineDraft[]) => lines.map((l) => [l.kind, l.priceKey, l.amountExact.toFixed(), l.amountCents]);
const images = (quantity: string) => ({ meter: 'image.generations', dimensions: {}, quantity });

describe('periodLines', () => {
  it.each<[string, Partial<PeriodInputs>, [string, string | null, string, bigint][]]>([
    ['a renewal with no usage: the next period’s fees in advance', {}, [['fixed', 'base', '20', 2000n], ['fixed', 'seat', '0', 0n], ['usage', 'images', '0', 0n]]],
    ['a final invoice: no fees in advance; a usage line per price, if only of zero', { nextPeriodEnd: null }, [['usage', 'images', '0', 0n]]],
    ['usage in arrears, per price', { nextPeriodEnd: null, usage: { plan: team, counters: [images('25')] } }, [['usage', 'images', '1', 100n]]],
    [
      'seats beyond the included ones and an add-on',
      { end: { plan: team, seats: 5, addOns: ['sso'] } },
      [['fixed', 'base', '20', 2000n], ['fixed', 'seat', '10', 1000n], ['fixed', 'add_on:sso', '10', 1000n], ['usage', 'images', '0', 0n]],
    ],
    [
      'a plan change half-way: credit of the old base fee, charge of the new, by seconds',
      {
        nextPeriodEnd: null,
        end: { plan: bigger, seats: 1, addOns: [] },
        changes: [{ effectiveAt: MID, before: { plan: team, seats: 1, addOns: [] }, after: { plan: bigger, seats: 1, addOns: [] } }],
      },
      [['proration', 'base', '-10', -1000n], ['proration', 'base', '25', 2500n], ['usage', 'images', '0', 0n]],
    ],
    [
      'late usage of an earlier period: the difference it makes to what was charged',
      {
        nextPeriodEnd: null,
        adjustments: [
          { correctsPeriodStart: '2026-02-01T00:00:00.000Z', plan: team, invoicedQuantity: { images: '10' }, counters: [{ ...images('3'), adjustmentId: 'a1', eventIds: ['e1'] }] },
        ],
      },
      [['usage', 'images', '0', 0n], ['adjustment', 'images', '0.12', 12n]],
    ],
  ])('%s', (_what, o, expected) => {
    expect(brief(periodLines(inputs(o)))).toEqual(expected);
  });

  it('rounds each line twice from its exact amount: ledger scale half-even, cents half-up', () => {
    const plan = planVersion({ usagePrices: [{ key: 'images', displayName: 'Images', meter: 'image.generations', price: { model: 'per_unit', unitPrice: '0.00125' } }] });
    const [usage] = periodLines(inputs({ nextPeriodEnd: null, usage: { plan, counters: [images('3')] } }));
    expect(usage!.amountExact.toFixed()).toBe('0.00375');
    expect(usage!.amountMinor).toBe(3750n);
    expect(usage!.amountCents).toBe(0n);
    const [half] = periodLines(inputs({ nextPeriodEnd: null, usage: { plan, counters: [images('4')] } }));
    expect([half!.amountExact.toFixed(), half!.amountCents]).toEqual(['0.005', 1n]);
  });

  it('pushes usage and adjustments to Stripe, never what Stripe computes itself', () => {
    const lines = periodLines(inputs({ usage: { plan: team, counters: [images('1')] } }));
    expect(lines.map((l) => [l.kind, l.pushToStripe])).toEqual([['fixed', false], ['fixed', false], ['usage', true]]);
    expect(totalCents(lines)).toBe(2004n);
    expect(lines.every((l) => l.quantity instanceof Dec)).toBe(true);
  });
});
