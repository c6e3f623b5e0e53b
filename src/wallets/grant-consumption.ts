/**
 * Which credit grants a debit consumes, and how much of each: pure, so the order is tested without
 * a database (test/wallets/grant-consumption.test.ts).
 *
 * Order:
 *   1. priority, lower number first (0 is spent before 100): an operator gives a grant that must go
 *      first a small number, like a queue position;
 *   2. then the soonest expiry, and grants that never expire last, so credit that would otherwise
 *      lapse is used while it can be;
 *   3. then the oldest (created first), and finally the id, so the order is total and repeatable.
 *
 * Grants expired at `now` (expires_at ≤ now) and grants with nothing left are never consumed.
 */

export interface ConsumableGrant {
  id: string;
  priority: number;
  expiresAt: Date | null;
  createdAt: Date;
  remainingMinor: bigint;
}

export interface Consumption {
  grantId: string;
  amountMinor: bigint;
}

/** Negative when `a` is consumed before `b`. */
export function consumptionOrder(a: ConsumableGrant, b: ConsumableGrant): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ae = a.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const be = b.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
  if (ae !== be) return ae < be ? -1 : 1;
  const ac = a.createdAt.getTime();
  const bc = b.createdAt.getTime();
  if (ac !== bc) return ac - bc;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether a grant can still be spent at `now`. */
export function isSpendable(g: ConsumableGrant, now: Date): boolean {
  return g.remainingMinor > 0n && (g.expiresAt === null || g.expiresAt.getTime() > now.getTime());
}

/**
 * Takes up to `amountMinor` from the spendable grants in consumption order. The consumed amounts add
 * up to min(amount, Σ spendable remaining); no grant gives more than it has.
 */
export function consumeGrants(grants: readonly ConsumableGrant[], amountMinor: bigint, now: Date): { consumed: Consumption[]; shortfallMinor: bigint } {
  if (amountMinor < 0n) throw new RangeError('amountMinor must not be negative');
  const ordered = grants.filter((g) => isSpendable(g, now)).sort(consumptionOrder);
  const consumed: Consumption[] = [];
  let left = amountMinor;
  for (const g of ordered) {
    if (left === 0n) break;
    const take = g.remainingMinor < left ? g.remainingMinor : left;
    consumed.push({ grantId: g.id, amountMinor: take });
    left -= take;
  }
  return { consumed, shortfallMinor: left };
}
