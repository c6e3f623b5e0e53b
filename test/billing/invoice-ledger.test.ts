/** invoicePosting and splitByWeights: an invoice's ledger transaction, built purely from its lines. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invoicePosting, paymentPosting, PLATFORM_APP, splitByWeights, type LedgerLine } from '../../src/billing/invoice-ledger.js';

const ISSUED = new Date('2026-04-01T00:00:00Z');
const posting = (lines: LedgerLine[]) => invoicePosting({ invoiceId: 'inv_1', teamId: 'team_1', currency: 'USD', issuedAt: ISSUED, workflowId: 'period:sub_1:x', lines });
const legs = (lines: LedgerLine[]) => posting(lines)?.legs.map((l) => [l.account.code, l.side, l.amountMinor]);

describe('invoicePosting', () => {
  it.each<[string, LedgerLine[], unknown]>([
    ['an empty invoice posts nothing', [], undefined],
    ['a zero line posts nothing', [{ lineNo: 1, amountMinor: 0n, amountCents: 0n, appShares: { [PLATFORM_APP]: 0n } }], undefined],
    [
      'a fixed fee: receivable against platform revenue',
      [{ lineNo: 1, amountMinor: 20_000_000n, amountCents: 2000n, appShares: { [PLATFORM_APP]: 20_000_000n } }],
      [['receivable:team_1:USD', 'debit', 20_000_000n], ['revenue:platform:USD', 'credit', 20_000_000n]],
    ],
    [
      'usage split over two apps, the cents rounding up: the difference on the rounding account',
      [{ lineNo: 1, amountMinor: 3_750n, amountCents: 1n, appShares: { app_a: 2_500n, app_b: 1_250n } }],
      [['receivable:team_1:USD', 'debit', 10_000n], ['revenue:app_a:USD', 'credit', 2_500n], ['revenue:app_b:USD', 'credit', 1_250n], ['rounding:USD', 'credit', 6_250n]],
    ],
    [
      'a credit larger than the charges: the receivable is credited',
      [
        { lineNo: 1, amountMinor: -10_000_000n, amountCents: -1000n, appShares: { [PLATFORM_APP]: -10_000_000n } },
        { lineNo: 2, amountMinor: 4_000_000n, amountCents: 400n, appShares: { [PLATFORM_APP]: 4_000_000n } },
      ],
      [['receivable:team_1:USD', 'credit', 6_000_000n], ['revenue:platform:USD', 'debit', 6_000_000n]],
    ],
  ])('%s', (_what, lines, expected) => {
    expect(legs(lines)).toEqual(expected);
  });

  it('is keyed by the invoice and names the activity that posts it', () => {
    const p = posting([{ lineNo: 1, amountMinor: 1_000_000n, amountCents: 100n, appShares: { [PLATFORM_APP]: 1_000_000n } }]);
    expect(p).toMatchObject({ scope: 'invoice', idempotencyKey: 'inv_1', code: 'invoice_issued', provenance: { workflowId: 'period:sub_1:x', activity: 'invoicePeriod' } });
  });

  it('balances whatever the lines', () => {
    const line = fc.record({ cents: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }), sub: fc.bigInt({ min: -9_999n, max: 9_999n }), apps: fc.array(fc.bigInt({ min: 0n, max: 1000n }), { minLength: 1, maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), (drafts) => {
        const lines = drafts.map((d, i) => {
          const amountMinor = d.cents * 10_000n + d.sub;
          return { lineNo: i + 1, amountMinor, amountCents: d.cents, appShares: splitByWeights(amountMinor, new Map(d.apps.map((w, j) => [`app_${j}`, w]))) };
        });
        const p = posting(lines);
        const debits = p?.legs.filter((l) => l.side === 'debit').reduce((t, l) => t + l.amountMinor, 0n) ?? 0n;
        const credits = p?.legs.filter((l) => l.side === 'credit').reduce((t, l) => t + l.amountMinor, 0n) ?? 0n;
        expect(debits).toBe(credits);
      }),
    );
  });
});

describe('paymentPosting', () => {
  it('moves the paid cents from the receivable to Stripe clearing, and nothing for a zero payment', () => {
    const paid = (cents: bigint) => paymentPosting({ invoiceId: 'inv_1', teamId: 'team_1', currency: 'USD', amountPaidCents: cents, paidAt: ISSUED, stripeEventId: 'evt_1' });
    expect(paid(2004n)?.legs.map((l) => [l.account.code, l.side, l.amountMinor])).toEqual([['stripe_clearing:USD', 'debit', 20_040_000n], ['receivable:team_1:USD', 'credit', 20_040_000n]]);
    expect(paid(0n)).toBeNull();
  });
});

describe('splitByWeights', () => {
  it.each<[bigint, [string, bigint][], Record<string, bigint>]>([
    [100n, [['a', 1n], ['b', 1n]], { a: 50n, b: 50n }],
    [100n, [['a', 1n], ['b', 2n]], { a: 33n, b: 67n }],
    [10n, [['a', 1n], ['b', 1n], ['c', 1n]], { a: 4n, b: 3n, c: 3n }],
    [-10n, [['a', 1n], ['b', 1n], ['c', 1n]], { a: -4n, b: -3n, c: -3n }],
    [7n, [['a', 0n], ['b', 5n]], { a: 0n, b: 7n }],
    [7n, [['a', 0n]], { [PLATFORM_APP]: 7n }],
    [7n, [], { [PLATFORM_APP]: 7n }],
  ])('case %#', (amount, weights, expected) => {
    expect(splitByWeights(amount, new Map(weights))).toEqual(expected);
  });

  it('always sums to the whole, each share within one unit of its exact part', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.bigInt({ min: 0n, max: 10n ** 12n }), { minKeys: 1, maxKeys: 8 }),
        (amount, weights) => {
          const map = new Map(Object.entries(weights));
          const shares = splitByWeights(amount, map);
          expect(Object.values(shares).reduce((t, s) => t + s, 0n)).toBe(amount);
          const total = [...map.values()].reduce((t, w) => t + w, 0n);
          if (total === 0n) return;
          for (const [key, w] of map) {
            const exactTimesTotal = amount * w; // share ≈ amount·w/total
            const diff = shares[key]! * total - exactTimesTotal;
            expect(diff < 0n ? -diff : diff).toBeLessThan(total);
          }
        },
      ),
    );
  });
});
