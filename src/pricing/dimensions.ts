/**
 * Per-dimension prices: usage counters carry dimension values (provider, model, size…) and each
 * counter is priced by the most specific price of its meter whose filter it matches. Counters that
 * select the same price are summed before rating, so tiers and allowances apply to the price's total.
 */
import type { Dec } from '../shared/money.js';
import { add, sum, toDec, ZERO } from './exact.js';
import { rateUsagePrice, type UsageRating } from './rate.js';
import type { DecimalString, UsagePrice } from './types.js';

export interface UsageCounter {
  meter: string;
  dimensions: Readonly<Record<string, string>>;
  quantity: DecimalString | Dec;
}

/** A problem in a list of prices, at a path relative to the list. */
export interface PriceIssue {
  path: (string | number)[];
  message: string;
}

type Filtered = Pick<UsagePrice, 'key' | 'meter' | 'filter'>;

/** Whether every dimension the filter names has that value in `dimensions`. */
export function filterMatches(filter: Readonly<Record<string, string>> | undefined, dimensions: Readonly<Record<string, string>>): boolean {
  for (const [name, value] of Object.entries(filter ?? {})) if (dimensions[name] !== value) return false;
  return true;
}

/**
 * The most specific price for a counter of `meter` with `dimensions`, or null when none matches.
 * Catalog validation (ambiguousFilterIssues) guarantees a unique answer; an ambiguous list throws.
 */
export function selectPrice<P extends Filtered>(prices: readonly P[], meter: string, dimensions: Readonly<Record<string, string>>): P | null {
  let best: P | null = null;
  let bestSize = -1;
  let tied: P | null = null;
  for (const p of prices) {
    if (p.meter !== meter || !filterMatches(p.filter, dimensions)) continue;
    const size = Object.keys(p.filter ?? {}).length;
    if (size > bestSize) [best, bestSize, tied] = [p, size, null];
    else if (size === bestSize) tied = p;
  }
  if (tied && best) throw new RangeError(`Prices ${best.key} and ${tied.key} match ${meter} ${JSON.stringify(dimensions)} equally`);
  return best;
}

const describe = (filter: Record<string, string>) => JSON.stringify(filter);

/**
 * Pairs of prices of one meter that some counter would match equally: identical filters, or filters
 * that can both match (no dimension with two different values) where neither contains the other,
 * unless a price exists for exactly their union (it is then more specific than both and wins).
 */
export function ambiguousFilterIssues(prices: readonly Filtered[]): PriceIssue[] {
  const issues: PriceIssue[] = [];
  const filterKey = (meter: string, f: Record<string, string>) =>
    `${meter}\u0000${JSON.stringify(Object.entries(f).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
  const present = new Set(prices.map((p) => filterKey(p.meter, p.filter ?? {})));
  prices.forEach((later, j) => {
    for (const earlier of prices.slice(0, j)) {
      if (earlier.meter !== later.meter) continue;
      const a = earlier.filter ?? {};
      const b = later.filter ?? {};
      const conflicting = Object.entries(b).some(([name, value]) => name in a && a[name] !== value);
      if (conflicting) continue;
      const aInB = filterMatches(a, b);
      const bInA = filterMatches(b, a);
      if (aInB && bInA) {
        issues.push({ path: [j, 'filter'], message: `Same filter ${describe(b)} as price ${earlier.key} on meter ${later.meter}: which one applies is ambiguous` });
      } else if (!aInB && !bInA && !present.has(filterKey(later.meter, { ...a, ...b }))) {
        issues.push({
          path: [j, 'filter'],
          message: `Filter ${describe(b)} and price ${earlier.key}'s filter ${describe(a)} both match usage with ${describe({ ...a, ...b })}, and neither is more specific; add a price for that combination or make the filters exclusive`,
        });
      }
    }
  });
  return issues;
}

export interface UsageLine<P extends UsagePrice = UsagePrice> {
  price: P;
  /** Dimension values of the counters this price rated. */
  dimensions: Readonly<Record<string, string>>[];
  rating: UsageRating;
}

export interface UsageRatingResult<P extends UsagePrice = UsagePrice> {
  /** One line per price, in the order of the price list (zero quantity when nothing matched it). */
  lines: UsageLine<P>[];
  /** Counters no price matched: not charged, listed so callers can tell. */
  unpriced: UsageCounter[];
  /** Exact, unrounded. */
  amount: Dec;
}

/** Rates usage counters against a price list: select, sum per price, rate. */
export function rateUsage<P extends UsagePrice>(prices: readonly P[], counters: readonly UsageCounter[]): UsageRatingResult<P> {
  const byKey = new Map(prices.map((p) => [p.key, { quantity: ZERO, dimensions: [] as Readonly<Record<string, string>>[] }]));
  const unpriced: UsageCounter[] = [];
  for (const counter of counters) {
    const price = selectPrice(prices, counter.meter, counter.dimensions);
    if (!price) {
      unpriced.push(counter);
      continue;
    }
    const acc = byKey.get(price.key)!;
    acc.quantity = add(acc.quantity, toDec(counter.quantity));
    acc.dimensions.push(counter.dimensions);
  }
  const lines = prices.map((price) => {
    const acc = byKey.get(price.key)!;
    return { price, dimensions: acc.dimensions, rating: rateUsagePrice(price, acc.quantity) };
  });
  return { lines, unpriced, amount: sum(lines.map((l) => l.rating.amount)) };
}
