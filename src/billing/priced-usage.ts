/**
 * Usage with its price and cost, at the grain of the daily rollups: one atom per (team, period, app,
 * day, meter, dimensions). The usage read API and the operator's margin report both group atoms.
 *
 * Price: the team's plan version in effect at the end of the period (or now, if earlier) rates the
 * period's counters with the pricing engine, exactly; each price line is rounded half-even to
 * micro-units and allocated to its counters by quantity, then to the counters' rollup rows by their
 * share of the quantity, by largest remainder, so atoms always sum to the period's price. (A plan
 * changed mid-period is priced by the later plan here; invoicing prices each part by its own.)
 * A team without a plan has price 0, and its atoms say so (`note: 'no_plan'`); usage its plan has no
 * price for also has price 0 (`note: 'no_price'`).
 *
 * Cost: the exact COGS in USD the rollups carry (sum of the events' costs or of their changes to
 * non-additive counters).
 */
import { pricesForTeam } from '../catalog/team-plans.js';
import { rateUsage, selectPrice, type UsageCounter } from '../pricing/dimensions.js';
import type { Queryable } from '../shared/db.js';
import { canonicalJson } from '../shared/crypto.js';
import { Dec, ledgerScale, toMinor } from '../shared/money.js';

export interface UsageAtom {
  teamId: string;
  periodId: string;
  periodStart: Date;
  periodEnd: Date;
  periodStatus: 'open' | 'closed';
  appId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  meter: string;
  dimensions: Record<string, string>;
  /** This atom's share of the period's counter (see usage_daily). */
  quantity: Dec;
  events: number;
  /** Exact COGS, USD. */
  cost: Dec;
  /** Allocated price in micro-units of `currency`. */
  priceMinor: bigint;
  currency: string | null;
  /** The plan version that priced it. */
  planVersionId: string | null;
  note: 'no_plan' | 'no_price' | null;
}

export interface AtomQuery {
  teamId?: string | undefined;
  appId?: string | undefined;
  meter?: string | undefined;
  /** Periods overlapping [from, to) are priced whole. */
  from: Date;
  to: Date;
  /** Keep only atoms of days in [from, to) (UTC); otherwise every atom of the periods. */
  daysOnly: boolean;
  now?: Date;
}

interface PeriodRow {
  id: bigint;
  team_id: string;
  period_start: Date;
  period_end: Date;
  status: 'open' | 'closed';
}

interface RollupRow {
  team_id: string;
  period_id: bigint;
  app_id: string;
  day: Date;
  meter: string;
  dimensions: Record<string, string>;
  quantity: string;
  cost: string;
  events: bigint;
}

const PRICE_SCALE = 6;

/**
 * Splits `totalMinor` by `weights` (any signs; their sum must not be zero) so the parts sum to it
 * exactly: each gets the floor of its exact share, and the units left over go to the largest
 * fractional parts.
 */
export function allocate(totalMinor: bigint, weights: readonly Dec[]): bigint[] {
  if (weights.length === 0) return [];
  const sum = weights.reduce((a, w) => a.plus(w), new Dec(0));
  if (sum.isZero()) return weights.map((_, i) => (i === 0 ? totalMinor : 0n));
  const exact = weights.map((w) => new Dec(totalMinor.toString()).times(w).div(sum));
  const parts = exact.map((e) => BigInt(e.floor().toFixed(0)));
  let left = totalMinor - parts.reduce((a, p) => a + p, 0n);
  const order = exact.map((e, i) => ({ i, frac: e.minus(e.floor()) })).sort((a, b) => b.frac.comparedTo(a.frac) || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return parts;
}

export async function usageAtoms(sql: Queryable, q: AtomQuery): Promise<UsageAtom[]> {
  const periods = await sql<PeriodRow[]>`
    select id, team_id, period_start, period_end, status from billing_periods
    where period_start < ${q.to} and period_end > ${q.from} and (${q.teamId ?? null}::text is null or team_id = ${q.teamId ?? null})
    order by team_id, period_start`;
  if (periods.length === 0) return [];
  const rollups = await sql<RollupRow[]>`
    select d.team_id, d.period_id, d.app_id, d.day, d.meter, d.dimensions, sum(d.quantity) as quantity, sum(d.cost) as cost, sum(d.events)::bigint as events
    from unnest(${periods.map((p) => p.team_id)}::text[], ${periods.map((p) => p.id.toString())}::bigint[]) as p(team_id, period_id)
    join usage_daily d on d.team_id = p.team_id and d.period_id = p.period_id
    group by d.team_id, d.period_id, d.app_id, d.day, d.meter, d.dimensions
    order by d.period_id, d.meter, d.dimensions, d.app_id, d.day`;
  const byPeriod = new Map<string, RollupRow[]>();
  for (const r of rollups) {
    const list = byPeriod.get(r.period_id.toString()) ?? [];
    list.push(r);
    byPeriod.set(r.period_id.toString(), list);
  }
  const now = q.now ?? new Date();
  const fromDay = q.from.toISOString().slice(0, 10);
  const toDay = q.to.toISOString().slice(0, 10);
  const atoms: UsageAtom[] = [];
  for (const p of periods) {
    const rows = byPeriod.get(p.id.toString()) ?? [];
    const priced = await pricePeriod(sql, p, rows, now);
    priced.forEach((atom) => {
      if (q.appId !== undefined && atom.appId !== q.appId) return;
      if (q.meter !== undefined && atom.meter !== q.meter) return;
      if (q.daysOnly && (atom.day < fromDay || atom.day >= toDay)) return;
      atoms.push(atom);
    });
  }
  return atoms;
}

/** Rates one period's counters (the sums of its rollups) and spreads each price line onto the rollup rows. */
async function pricePeriod(sql: Queryable, p: PeriodRow, rows: readonly RollupRow[], now: Date): Promise<UsageAtom[]> {
  const at = new Date(Math.min(p.period_end.getTime() - 1, now.getTime()));
  const plan = rows.length > 0 ? await pricesForTeam(sql, p.team_id, at) : null;
  const counters = new Map<string, { counter: UsageCounter; rows: RollupRow[]; quantity: Dec }>();
  for (const r of rows) {
    const k = `${r.meter}\u0000${canonicalJson(r.dimensions)}`;
    const c = counters.get(k) ?? { counter: { meter: r.meter, dimensions: r.dimensions, quantity: '0' }, rows: [], quantity: new Dec(0) };
    c.rows.push(r);
    c.quantity = c.quantity.plus(r.quantity);
    counters.set(k, c);
  }
  const rowPrice = new Map<RollupRow, bigint>();
  const rowNote = new Map<RollupRow, UsageAtom['note']>();
  if (plan) {
    const prices = plan.planVersion.usagePrices;
    const list = [...counters.values()];
    const rating = rateUsage(prices, list.map((c) => ({ ...c.counter, quantity: Dec.max(c.quantity, 0) })));
    const priceKey = new Map(list.map((c) => [c, selectPrice(prices, c.counter.meter, c.counter.dimensions)?.key ?? null]));
    for (const line of rating.lines) {
      const lineCounters = list.filter((c) => priceKey.get(c) === line.price.key);
      const perCounter = allocate(toMinor(line.rating.amount, PRICE_SCALE), lineCounters.map((c) => c.quantity));
      lineCounters.forEach((c, i) => {
        allocate(perCounter[i]!, c.rows.map((r) => new Dec(r.quantity))).forEach((minor, j) => rowPrice.set(c.rows[j]!, minor));
      });
    }
    for (const c of list) if (priceKey.get(c) === null) for (const r of c.rows) rowNote.set(r, 'no_price');
  }
  return rows.map((r) => ({
    teamId: p.team_id,
    periodId: p.id.toString(),
    periodStart: p.period_start,
    periodEnd: p.period_end,
    periodStatus: p.status,
    appId: r.app_id,
    day: r.day.toISOString().slice(0, 10),
    meter: r.meter,
    dimensions: r.dimensions,
    quantity: new Dec(r.quantity),
    events: Number(r.events),
    cost: new Dec(r.cost),
    priceMinor: rowPrice.get(r) ?? 0n,
    currency: plan?.planVersion.currency ?? null,
    planVersionId: plan?.planVersion.id ?? null,
    note: plan ? (rowNote.get(r) ?? null) : 'no_plan',
  }));
}

/** Micro-units of a price → decimal string at the ledger scale of its currency. */
export function priceString(minor: bigint, currency: string | null): string {
  return new Dec(minor.toString()).div(new Dec(10).pow(currency ? ledgerScale(currency) : PRICE_SCALE)).toFixed(PRICE_SCALE);
}
