/** The order in which a debit consumes credit grants: priority, then soonest expiry, then oldest. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consumeGrants, type ConsumableGrant } from '../../src/wallets/grant-consumption.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const at = (iso: string) => new Date(iso);
const grant = (id: string, remainingMinor: bigint, o: Partial<ConsumableGrant> = {}): ConsumableGrant => ({
  id,
  priority: 100,
  expiresAt: null,
  createdAt: at('2026-01-01T00:00:00Z'),
  remainingMinor,
  ...o,
});

describe('consumeGrants', () => {
  it('spends the lower priority number first, whatever the expiry or age', () => {
    const grants = [
      grant('late-expiry-first-priority', 10n, { priority: 1, expiresAt: at('2027-01-01T00:00:00Z') }),
      grant('soon-expiry-second-priority', 10n, { priority: 2, expiresAt: at('2026-06-02T00:00:00Z') }),
    ];
    expect(consumeGrants(grants, 15n, NOW).consumed).toEqual([
      { grantId: 'late-expiry-first-priority', amountMinor: 10n },
      { grantId: 'soon-expiry-second-priority', amountMinor: 5n },
    ]);
  });

  it('within a priority spends the soonest expiry first and grants that never expire last', () => {
    const grants = [grant('never', 10n), grant('july', 10n, { expiresAt: at('2026-07-01T00:00:00Z') }), grant('june', 10n, { expiresAt: at('2026-06-15T00:00:00Z') })];
    expect(consumeGrants(grants, 25n, NOW).consumed.map((c) => c.grantId)).toEqual(['june', 'july', 'never']);
  });

  it('with the same priority and expiry spends the oldest first', () => {
    const grants = [grant('newer', 10n, { createdAt: at('2026-03-01T00:00:00Z') }), grant('older', 10n, { createdAt: at('2026-02-01T00:00:00Z') })];
    expect(consumeGrants(grants, 5n, NOW).consumed).toEqual([{ grantId: 'older', amountMinor: 5n }]);
  });

  it('never spends a grant expired at the instant of the debit, nor an empty one', () => {
    const grants = [grant('expired-now', 10n, { expiresAt: NOW, priority: 0 }), grant('empty', 0n, { priority: 0 }), grant('live', 10n)];
    const r = consumeGrants(grants, 20n, NOW);
    expect(r.consumed).toEqual([{ grantId: 'live', amountMinor: 10n }]);
    expect(r.shortfallMinor).toBe(10n);
  });

  it('consumes min(amount, available) in total and never takes a grant below zero (property)', () => {
    const arbGrant = fc.record({
      id: fc.uuid(),
      priority: fc.integer({ min: 0, max: 5 }),
      expiresAt: fc.option(fc.date({ min: at('2026-05-01T00:00:00Z'), max: at('2026-08-01T00:00:00Z'), noInvalidDate: true }), { nil: null }),
      createdAt: fc.date({ min: at('2025-01-01T00:00:00Z'), max: at('2026-05-31T00:00:00Z'), noInvalidDate: true }),
      remainingMinor: fc.bigInt({ min: 0n, max: 1_000_000_000_000_000n }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(arbGrant, { selector: (g) => g.id, maxLength: 30 }), fc.bigInt({ min: 0n, max: 10n ** 17n }), (grants, amount) => {
        const spendable = grants.filter((g) => g.remainingMinor > 0n && (g.expiresAt === null || g.expiresAt > NOW));
        const available = spendable.reduce((s, g) => s + g.remainingMinor, 0n);
        const { consumed, shortfallMinor } = consumeGrants(grants, amount, NOW);
        const total = consumed.reduce((s, c) => s + c.amountMinor, 0n);
        expect(total).toBe(amount < available ? amount : available);
        expect(shortfallMinor).toBe(amount - total);
        const byId = new Map(grants.map((g) => [g.id, g]));
        for (const c of consumed) {
          const g = byId.get(c.grantId)!;
          expect(c.amountMinor > 0n && c.amountMinor <= g.remainingMinor).toBe(true);
          expect(g.expiresAt === null || g.expiresAt > NOW).toBe(true);
        }
        // Every grant but the last consumed is used up: nothing is skipped in the order.
        consumed.slice(0, -1).forEach((c) => expect(c.amountMinor).toBe(byId.get(c.grantId)!.remainingMinor));
      }),
      { numRuns: 300 },
    );
  });
});
