/**
 * An independent recount of the usage counters from the raw events: the same definitions (event-type
 * mappings, aggregation semantics, cost rates) computed from scratch in TypeScript, sharing no code
 * with the incremental SQL of usage_ingest(). The benchmark and the tests run it after hammering
 * ingest; an operator can run it to audit teams. Also checks that the daily rollups of every period
 * sum to its counters.
 */
import type { Queryable } from '../shared/db.js';
import { canonicalJson } from '../shared/crypto.js';
import { Dec, ledgerScale, toMinor } from '../shared/money.js';
import { COGS_CURRENCY } from './cogs-posting.js';
import { eventType, meterQuantities } from './event-registry.js';
import { isAdditive, METERS, type Aggregation, type MeterDefinition } from '../pricing/meters.js';

export interface RecountMismatch {
  source: 'counters' | 'rollups';
  teamId: string;
  periodId: string;
  meter: string;
  dimensions: string;
  field: 'quantity' | 'events' | 'cost';
  stored: string;
  expected: string;
}

export interface RecountResult {
  teams: number;
  events: number;
  counters: number;
  /** Events whose type is not registered (they are not recounted). */
  unknownEvents: number;
  mismatches: RecountMismatch[];
}

interface Period {
  id: bigint;
  start: number;
  end: number;
}

interface Rate {
  provider: string;
  model: string | null;
  meter: string;
  effectiveFrom: number;
  publishedAt: number;
  ratePerUnit: Dec;
}

/** Orders gauge points and `latest` candidates: time, then app, then idempotency key. */
interface Stamp {
  at: number;
  app: string;
  key: string;
}

interface Point extends Stamp {
  value: Dec;
  periodId: bigint;
}

interface Acc {
  teamId: string;
  periodId: bigint;
  meter: string;
  aggregation: Aggregation;
  dims: Record<string, string>;
  quantity: Dec;
  cost: Dec;
  events: number;
  latest?: Stamp;
  unique?: Set<string>;
}

const TEAMS_PER_CHUNK = 200;
const CURSOR_ROWS = 2_000;
const TW_SCALE = 6;

/** Code-unit order, as Postgres compares text with collation "C" for ASCII keys. */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const stampOrder = (a: Stamp, b: Stamp) => a.at - b.at || cmp(a.app, b.app) || cmp(a.key, b.key);

/** The rate for usage at `at`, among the rates already published when it was costed (`costedAt`). */
function rateAt(rates: readonly Rate[], meter: string, dims: Record<string, string>, at: number, costedAt: number): Dec {
  const provider = dims.provider;
  if (provider === undefined) return new Dec(0);
  let best: Rate | undefined;
  for (const r of rates) {
    if (r.provider !== provider || r.meter !== meter || r.effectiveFrom > at || r.publishedAt > costedAt || (r.model !== null && r.model !== dims.model)) continue;
    const better = !best || (best.model === null && r.model !== null) || ((best.model === null) === (r.model === null) && r.effectiveFrom > best.effectiveFrom);
    if (better) best = r;
  }
  return best?.ratePerUnit ?? new Dec(0);
}

export async function recountUsage(sql: Queryable, teamIds: readonly string[]): Promise<RecountResult> {
  const rates = (await sql<{ provider: string; model: string | null; meter: string; effective_from: Date; published_at: Date; rate_per_unit: string }[]>`
    select provider, model, meter, effective_from, published_at, rate_per_unit from cost_rates`).map((r) => ({
    provider: r.provider,
    model: r.model,
    meter: r.meter,
    effectiveFrom: r.effective_from.getTime(),
    publishedAt: r.published_at.getTime(),
    ratePerUnit: new Dec(r.rate_per_unit),
  }));
  const result: RecountResult = { teams: teamIds.length, events: 0, counters: 0, unknownEvents: 0, mismatches: [] };
  for (let i = 0; i < teamIds.length; i += TEAMS_PER_CHUNK) {
    await recountChunk(sql, teamIds.slice(i, i + TEAMS_PER_CHUNK), rates, result);
  }
  return result;
}

type Periods = Map<string, Period[]>;
type Series = { teamId: string; meter: string; dims: Record<string, string>; points: Point[] };

/** What the recount of a chunk has found so far: a counter per (team, period, meter, dimensions), and each gauge's points. */
class Tally {
  readonly accs = new Map<string, Acc>();
  readonly series = new Map<string, Series>();

  accFor(teamId: string, periodId: bigint, meter: MeterDefinition, dims: Record<string, string>): Acc {
    const k = `${teamId}|${periodId}|${meter.code}|${canonicalJson(dims)}`;
    let acc = this.accs.get(k);
    if (!acc) {
      acc = { teamId, periodId, meter: meter.code, aggregation: meter.aggregation, dims, quantity: new Dec(0), cost: new Dec(0), events: 0 };
      this.accs.set(k, acc);
    }
    return acc;
  }
}

interface StoredEvent {
  app_id: string;
  idempotency_key: string;
  event_type: string;
  team_id: string;
  event_at: Date;
  received_at: Date;
  payload: unknown;
}

async function recountChunk(sql: Queryable, teamIds: string[], rates: Rate[], result: RecountResult): Promise<void> {
  const periods = await periodsOf(sql, teamIds);
  const tally = new Tally();
  const cursor = sql<StoredEvent[]>`
    select app_id, idempotency_key, event_type, team_id, event_at, received_at, payload from usage_events where team_id = any(${teamIds})`.cursor(CURSOR_ROWS);
  for await (const rows of cursor) for (const e of rows) countEvent(tally, periods, rates, e, result);
  integrateGauges(tally, periods);
  await compareWithStored(sql, teamIds, tally, periods, rates, result);
}

async function periodsOf(sql: Queryable, teamIds: string[]): Promise<Periods> {
  const periods: Periods = new Map();
  for (const p of await sql<{ id: bigint; team_id: string; period_start: Date; period_end: Date }[]>`
    select id, team_id, period_start, period_end from billing_periods where team_id = any(${teamIds}) order by team_id, period_start`) {
    const list = periods.get(p.team_id) ?? [];
    list.push({ id: p.id, start: p.period_start.getTime(), end: p.period_end.getTime() });
    periods.set(p.team_id, list);
  }
  return periods;
}

/** One raw event into the counters of its period, by each meter's aggregation (gauges: as a point of their series). */
function countEvent(tally: Tally, periods: Periods, rates: readonly Rate[], e: StoredEvent, result: RecountResult): void {
  result.events++;
  const type = eventType(e.event_type);
  if (!type) {
    result.unknownEvents++;
    return;
  }
  const at = e.event_at.getTime();
  const period = periods.get(e.team_id)?.find((p) => p.start <= at && at < p.end);
  if (!period) throw new Error(`Event ${e.app_id}/${e.idempotency_key} at ${e.event_at.toISOString()} lies in no period of ${e.team_id}`);
  for (const q of meterQuantities(type, type.payload.parse(e.payload))) {
    const meter: MeterDefinition = METERS[q.meter];
    const quantity = new Dec(q.quantity);
    const acc = tally.accFor(e.team_id, period.id, meter, q.dimensions);
    acc.events++;
    switch (meter.aggregation) {
      case 'sum':
      case 'count': {
        const counted = meter.aggregation === 'count' ? new Dec(1) : quantity;
        acc.quantity = acc.quantity.plus(counted);
        acc.cost = acc.cost.plus(counted.times(rateAt(rates, meter.code, q.dimensions, at, e.received_at.getTime())));
        break;
      }
      case 'max':
        if (acc.events === 1 || quantity.gt(acc.quantity)) acc.quantity = quantity;
        break;
      case 'latest': {
        const candidate = { at, app: e.app_id, key: e.idempotency_key };
        if (!acc.latest || stampOrder(candidate, acc.latest) > 0) {
          acc.latest = candidate;
          acc.quantity = quantity;
        }
        break;
      }
      case 'unique_count':
        acc.unique ??= new Set();
        acc.unique.add(q.uniqueValue!);
        acc.quantity = new Dec(acc.unique.size);
        break;
      case 'time_weighted': {
        const k = `${e.team_id}|${meter.code}|${canonicalJson(q.dimensions)}`;
        const s = tally.series.get(k) ?? { teamId: e.team_id, meter: meter.code, dims: q.dimensions, points: [] };
        s.points.push({ at, app: e.app_id, key: e.idempotency_key, value: quantity, periodId: period.id });
        tally.series.set(k, s);
        break;
      }
    }
  }
}

/** Gauges: the step function of each series integrated over every period of its team. */
function integrateGauges(tally: Tally, periods: Periods): void {
  for (const s of tally.series.values()) {
    s.points.sort(stampOrder);
    const meter: MeterDefinition = METERS[s.meter as keyof typeof METERS];
    for (const p of periods.get(s.teamId) ?? []) {
      let area = new Dec(0);
      let value = new Dec(0);
      let from = p.start;
      for (const pt of s.points) {
        if (pt.at >= p.end) break;
        if (pt.at > from) {
          area = area.plus(value.times(pt.at - from));
          from = pt.at;
        }
        value = pt.value;
      }
      area = area.plus(value.times(p.end - from));
      const inPeriod = s.points.filter((pt) => pt.periodId === p.id).length;
      if (area.isZero() && inPeriod === 0) continue;
      const acc = tally.accFor(s.teamId, p.id, meter, s.dims);
      acc.quantity = area.div(p.end - p.start).toDecimalPlaces(TW_SCALE, Dec.ROUND_HALF_UP);
    }
  }
}

/** Compares the recount with the stored counters (summed over their stripes), and the counters with their rollups. */
async function compareWithStored(sql: Queryable, teamIds: string[], tally: Tally, periods: Periods, rates: readonly Rate[], result: RecountResult): Promise<void> {
  const stored = await sql<{ team_id: string; period_id: bigint; meter: string; dimensions: Record<string, string>; quantity: string; events: bigint; cost: string; updated_at: Date; rq: string | null; rc: string | null; re: bigint | null }[]>`
    select c.team_id, c.period_id, c.meter, c.dimensions, c.quantity, c.events, c.cost, c.updated_at, r.rq, r.rc, r.re
    from (select team_id, period_id, meter, dimensions, sum(quantity) as quantity, sum(events)::bigint as events, sum(cost) as cost,
                 max(updated_at) as updated_at
          from usage_counters where team_id = any(${teamIds}) group by 1, 2, 3, 4) c
    left join (select team_id, period_id, meter, dimensions, sum(quantity) as rq, sum(cost) as rc, sum(events)::bigint as re
               from usage_daily where team_id = any(${teamIds}) group by 1, 2, 3, 4) r
      using (team_id, period_id, meter, dimensions)`;
  const seen = new Set<string>();
  for (const c of stored) {
    result.counters++;
    const k = `${c.team_id}|${c.period_id}|${c.meter}|${canonicalJson(c.dimensions)}`;
    seen.add(k);
    const acc = tally.accs.get(k);
    if (acc && !isAdditive(acc.aggregation)) {
      // Non-additive counters are costed as a whole, at the period start's rate, when last updated.
      const start = periods.get(acc.teamId)!.find((p) => p.id === acc.periodId)!.start;
      acc.cost = acc.quantity.times(rateAt(rates, acc.meter, acc.dims, start, c.updated_at.getTime()));
    }
    const where = { teamId: c.team_id, periodId: c.period_id.toString(), meter: c.meter, dimensions: canonicalJson(c.dimensions) };
    const check = (source: RecountMismatch['source'], field: RecountMismatch['field'], storedValue: string, expected: string) => {
      if (!new Dec(storedValue).eq(expected)) result.mismatches.push({ source, ...where, field, stored: storedValue, expected });
    };
    if (c.meter in METERS) {
      check('counters', 'quantity', c.quantity, acc?.quantity.toFixed() ?? '0');
      check('counters', 'cost', c.cost, acc?.cost.toFixed() ?? '0');
      check('counters', 'events', c.events.toString(), String(acc?.events ?? 0));
    }
    check('rollups', 'quantity', c.rq ?? '0', c.quantity);
    check('rollups', 'cost', c.rc ?? '0', c.cost);
    check('rollups', 'events', (c.re ?? 0n).toString(), c.events.toString());
  }
  for (const [k, acc] of tally.accs) {
    if (seen.has(k) || (acc.quantity.isZero() && acc.cost.isZero() && acc.events === 0)) continue;
    result.mismatches.push({ source: 'counters', teamId: acc.teamId, periodId: acc.periodId.toString(), meter: acc.meter, dimensions: canonicalJson(acc.dims), field: 'quantity', stored: 'missing', expected: acc.quantity.toFixed() });
  }
}

export interface CogsReconciliation {
  provider: string;
  /** Σ over the provider's counters of round_half_even(exact cost), in micro-dollars. */
  countersMinor: bigint;
  /** Balance of cogs:<provider>:USD over all its shards. */
  cogsMinor: bigint;
  /** Balance of payable:<provider>:USD over all its shards. */
  payableMinor: bigint;
  /** Differences queued by ingest and not yet folded into the ledger (src/usage/cogs-fold.ts). */
  queuedMinor: bigint;
  ok: boolean;
}

/**
 * Rounding by difference makes the COGS ledger of a provider, plus what is queued for it and not yet
 * folded, equal the sum of its counters' rounded exact costs, to the micro-dollar. This checks it
 * (for the given providers, or all).
 */
export async function reconcileCogs(sql: Queryable, providers?: readonly string[]): Promise<CogsReconciliation[]> {
  const filter = providers ? [...providers] : null;
  const counters = await sql<{ provider: string; cost: string }[]>`
    select dimensions ->> 'provider' as provider, cost from usage_counters
    where dimensions ? 'provider' and cost <> 0 and (${filter}::text[] is null or dimensions ->> 'provider' = any(${filter}::text[]))`;
  const ledger = await sql<{ code: string; balance: string }[]>`
    select a.code, sum(b.balance_minor)::text as balance from ledger_accounts a join ledger_balances b on b.account_id = a.id
    where a.currency = ${COGS_CURRENCY} and (a.code like 'cogs:%' or a.code like 'payable:%')
    group by a.code`;
  const queued = await sql<{ provider: string; minor: string }[]>`
    select provider, sum(minor)::text as minor from usage_cogs_queue
    where ${filter}::text[] is null or provider = any(${filter}::text[]) group by provider`;
  const byProvider = new Map<string, CogsReconciliation>();
  const entry = (provider: string) => {
    let e = byProvider.get(provider);
    if (!e) byProvider.set(provider, (e = { provider, countersMinor: 0n, cogsMinor: 0n, payableMinor: 0n, queuedMinor: 0n, ok: false }));
    return e;
  };
  for (const c of counters) entry(c.provider).countersMinor += toMinor(c.cost, ledgerScale(COGS_CURRENCY));
  for (const l of ledger) {
    const [kind, provider] = l.code.split(':') as [string, string];
    if (filter && !filter.includes(provider)) continue;
    if (kind === 'cogs') entry(provider).cogsMinor += BigInt(l.balance);
    else entry(provider).payableMinor += BigInt(l.balance);
  }
  for (const q of queued) entry(q.provider).queuedMinor += BigInt(q.minor);
  return [...byProvider.values()].map((e) => ({ ...e, ok: e.countersMinor === e.cogsMinor + e.queuedMinor && e.cogsMinor === e.payableMinor }));
}
