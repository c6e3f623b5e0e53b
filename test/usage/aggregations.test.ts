/**
 * The six aggregations of the counter logic, through usage_ingest() itself with meters of their own
 * (the shipped event types use only sum, count and time_weighted). Batches arrive out of order on
 * purpose: a counter must not depend on arrival order.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, appSql } from '../helpers/context.js';
import { countRows, type CountedBatch } from '../../src/usage/usage-store.js';
import { LIMITS } from '../../src/shared/limits.js';
import { ensurePeriods, openBillingPeriod } from '../../src/usage/billing-periods.js';
import { createTeams, usageApp, type UsageApp } from './fixtures.js';

let u: UsageApp;
beforeAll(async () => {
  u = await usageApp({ teams: 0 });
});

interface Item {
  at: number;
  q: number | string;
  key?: string;
  u?: string;
  d?: Record<string, string>;
}

async function report(teamId: string, meter: string, aggregation: string, items: Item[], appId = u.appId): Promise<CountedBatch> {
  const events = items.map((it, i) => ({
    i,
    k: it.key ?? randomUUID(),
    t: 'test.event.v1',
    team: teamId,
    at: new Date(it.at).toISOString(),
    h: '00',
    p: {},
    s: 'aggregations-test',
  }));
  const x = aggregation === 'sum' || aggregation === 'count' ? LIMITS.usageTokensPerStripeMax : null;
  const quantities = items.map((it, e) => ({ e, m: meter, a: aggregation, q: it.q, d: it.d ?? {}, u: it.u ?? null, x }));
  await ensurePeriods(appSql(), items.map((it) => ({ teamId, at: new Date(it.at) })));
  return appSql().begin((tx) => countRows(tx, appId, events, quantities, new Date(), 0));
}

async function counter(teamId: string, meter: string) {
  const rows = await adminSql()<{ quantity: string; events: bigint; period_id: bigint }[]>`
    select sum(quantity) as quantity, sum(events)::bigint as events, period_id from usage_counters
    where team_id = ${teamId} and meter = ${meter} group by period_id order by period_id`;
  return rows;
}

async function rollupTotals(teamId: string, meter: string) {
  return adminSql()<{ period_id: bigint; quantity: string; events: bigint }[]>`
    select period_id, sum(quantity) as quantity, sum(events)::bigint as events from usage_daily
    where team_id = ${teamId} and meter = ${meter} group by period_id order by period_id`;
}

const now = Date.now();
const minutesAgo = (m: number) => now - m * 60_000;

describe('aggregations', () => {
  it('sum adds quantities exactly, decimals included', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await report(team!, 'test.sum', 'sum', [{ at: minutesAgo(3), q: '1.5' }, { at: minutesAgo(1), q: '2.25' }]);
    await report(team!, 'test.sum', 'sum', [{ at: minutesAgo(2), q: 3 }]);
    expect(await counter(team!, 'test.sum')).toMatchObject([{ quantity: '6.75', events: 3n }]);
    expect(await rollupTotals(team!, 'test.sum')).toMatchObject([{ quantity: '6.75', events: 3n }]);
  });

  it('count counts events, whatever their quantity', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await report(team!, 'test.count', 'count', [{ at: minutesAgo(3), q: 1 }, { at: minutesAgo(2), q: 1 }]);
    await report(team!, 'test.count', 'count', [{ at: minutesAgo(1), q: 1 }]);
    expect(await counter(team!, 'test.count')).toMatchObject([{ quantity: '3', events: 3n }]);
  });

  it('max keeps the largest value in any arrival order', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await report(team!, 'test.max', 'max', [{ at: minutesAgo(1), q: 5 }, { at: minutesAgo(3), q: 9 }]);
    await report(team!, 'test.max', 'max', [{ at: minutesAgo(2), q: 7 }]);
    expect(await counter(team!, 'test.max')).toMatchObject([{ quantity: '9', events: 3n }]);
    expect(await rollupTotals(team!, 'test.max')).toMatchObject([{ quantity: '9' }]);
  });

  it('latest keeps the value of the latest event by timestamp, not by arrival, and breaks ties by key', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await report(team!, 'test.latest', 'latest', [{ at: minutesAgo(1), q: 30 }]);
    await report(team!, 'test.latest', 'latest', [{ at: minutesAgo(5), q: 10 }, { at: minutesAgo(3), q: 20 }]);
    expect(await counter(team!, 'test.latest')).toMatchObject([{ quantity: '30', events: 3n }]);
    const tie = minutesAgo(0.5);
    await report(team!, 'test.latest', 'latest', [{ at: tie, q: 2, key: 'b-key' }]);
    await report(team!, 'test.latest', 'latest', [{ at: tie, q: 1, key: 'a-key' }]);
    expect(await counter(team!, 'test.latest')).toMatchObject([{ quantity: '2' }]);
    expect(await rollupTotals(team!, 'test.latest')).toMatchObject([{ quantity: '2' }]);
  });

  it('unique_count counts each distinct value once per period', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await report(team!, 'test.unique', 'unique_count', [{ at: minutesAgo(3), q: 1, u: 'alice' }, { at: minutesAgo(2), q: 1, u: 'bob' }]);
    await report(team!, 'test.unique', 'unique_count', [{ at: minutesAgo(1), q: 1, u: 'alice' }, { at: minutesAgo(1), q: 1, u: 'carol' }]);
    expect(await counter(team!, 'test.unique')).toMatchObject([{ quantity: '3', events: 4n }]);
    expect(await rollupTotals(team!, 'test.unique')).toMatchObject([{ quantity: '3', events: 4n }]);
  });

  it('time_weighted averages a gauge over the period, in any arrival order, and carries it into the next period', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const start = Math.floor(minutesAgo(30) / 1000) * 1000;
    const p1 = await openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(start), periodEnd: new Date(start + 10_000) });
    const p2 = await openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(start + 10_000), periodEnd: new Date(start + 20_000) });
    // 100 for the first half of p1, then 300: average 200; p2 carries 300.
    await report(team!, 'test.gauge', 'time_weighted', [{ at: start + 5_000, q: 300 }]);
    await report(team!, 'test.gauge', 'time_weighted', [{ at: start, q: 100 }]);
    expect((await counter(team!, 'test.gauge')).map((c) => [c.period_id.toString(), c.quantity])).toEqual([
      [p1.periodId, '200.000000'],
      [p2.periodId, '300.000000'],
    ]);
    // A late point at 8 s drops the gauge to 0 until the next point: p1 = (100·5 + 300·3 + 0·2)/10, p2 = 0.
    await report(team!, 'test.gauge', 'time_weighted', [{ at: start + 8_000, q: 0 }]);
    expect((await counter(team!, 'test.gauge')).map((c) => c.quantity)).toEqual(['140.000000', '0.000000']);
    // A point in p2 counts from its time on: 50 for the last 4 s of p2.
    await report(team!, 'test.gauge', 'time_weighted', [{ at: start + 16_000, q: 50 }]);
    expect((await counter(team!, 'test.gauge')).map((c) => [c.quantity, c.events])).toEqual([['140.000000', 3n], ['20.000000', 1n]]);
    expect((await rollupTotals(team!, 'test.gauge')).map((r) => Number(r.quantity))).toEqual([140, 20]);
  });

  it('time_weighted carries the gauge into a period created later, on demand', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const start = Math.floor(minutesAgo(60) / 1000) * 1000;
    await openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(start), periodEnd: new Date(start + 10_000) });
    await report(team!, 'test.gauge', 'time_weighted', [{ at: start + 2_000, q: 1000 }]);
    // The next event falls after the explicit period: ingest creates a (clipped) calendar period that starts at 1000.
    await report(team!, 'test.sum', 'sum', [{ at: minutesAgo(1), q: 1 }]);
    const rows = await counter(team!, 'test.gauge');
    expect(rows.map((r) => r.quantity)).toEqual(['800.000000', '1000.000000']);
  });
});
