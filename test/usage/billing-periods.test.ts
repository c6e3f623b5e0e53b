/** Billing periods: on demand, explicit, trimming, closing; late usage under both team policies. */
import { describe, expect, it } from 'vitest';
import { adminSql, appSql } from '../helpers/context.js';
import { adjustmentsForInvoice, closeUsagePeriod, openBillingPeriod, pendingAdjustments, periodAt, periodCounters, periodCountersAtClose } from '../../src/usage/billing-periods.js';
import { nextPeriodEnd } from '../../src/workflows/periods.js';
import { createTeams, llmEvent, storageEvent, usageApp } from './fixtures.js';

const u = await usageApp({ teams: 0 });
const now = Date.now();
const minutes = (m: number) => m * 60_000;
const hourStart = Math.floor((now - minutes(180)) / 3_600_000) * 3_600_000;

async function twoPeriods(teamId: string) {
  const p1 = await openBillingPeriod(appSql(), { teamId, periodStart: new Date(hourStart), periodEnd: new Date(hourStart + minutes(60)) });
  const p2 = await openBillingPeriod(appSql(), { teamId, periodStart: new Date(hourStart + minutes(60)), periodEnd: new Date(now + minutes(60 * 24)) });
  return { p1, p2 };
}

describe('periods on demand', () => {
  it('creates the UTC calendar month of an event when no period covers it', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await u.post([llmEvent(team!, { at: now - minutes(1) })]);
    const period = await periodAt(appSql(), team!, new Date(now));
    const d = new Date(now - minutes(1));
    expect(period).toMatchObject({
      source: 'calendar',
      status: 'open',
      periodStart: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString(),
      periodEnd: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString(),
    });
  });

  it('clips the on-demand period to the explicit periods around it', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const { p1 } = await twoPeriods(team!);
    await u.post([llmEvent(team!, { at: hourStart - minutes(1) })]);
    const before = await periodAt(appSql(), team!, new Date(hourStart - minutes(1)));
    expect(before).toMatchObject({ source: 'calendar', periodEnd: p1.periodStart });
  });
});

describe('explicit periods', () => {
  it('are idempotent by their bounds and refuse to overlap another explicit period', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const { p1 } = await twoPeriods(team!);
    const again = await openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(p1.periodStart), periodEnd: new Date(p1.periodEnd) });
    expect(again.periodId).toBe(p1.periodId);
    await expect(
      openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(hourStart + minutes(30)), periodEnd: new Date(hourStart + minutes(90)) }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });

  it('end an open calendar period early when no usage lies after the new start, carrying gauges over', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await u.post([storageEvent(team!, 1_000_000, now - minutes(30)), llmEvent(team!, { at: now - minutes(20) })]);
    const calendar = (await periodAt(appSql(), team!, new Date(now)))!;
    const start = new Date(now - minutes(10));
    const explicit = await openBillingPeriod(appSql(), { teamId: team!, periodStart: start, periodEnd: new Date(now + minutes(60)) });
    expect((await periodAt(appSql(), team!, new Date(now - minutes(15))))).toMatchObject({ periodId: calendar.periodId, periodEnd: start.toISOString() });
    const carried = await periodCounters(appSql(), explicit.periodId);
    expect(carried).toMatchObject([{ meter: 'storage.bytes', quantity: '1000000.000000', events: '0' }]);
    // The trimmed period now averages the gauge over its shorter length; its rollups still sum to it.
    const [trimmed] = (await periodCounters(appSql(), calendar.periodId)).filter((c) => c.meter === 'storage.bytes');
    const [rollup] = await adminSql()<{ q: string }[]>`
      select sum(quantity) as q from usage_daily where period_id = ${calendar.periodId} and meter = 'storage.bytes'`;
    expect(Number(rollup!.q)).toBeCloseTo(Number(trimmed!.quantity), 6);
    expect(Number(trimmed!.quantity)).toBeGreaterThan(0);
  });

  it('refuse to end a calendar period early over usage already counted after the new start', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    await u.post([llmEvent(team!, { at: now - minutes(1) })]);
    await expect(
      openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(now - minutes(10)), periodEnd: new Date(now + minutes(60)) }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('periods that repeat (a cadence)', () => {
  it('shape the periods ingest creates after them, slot by slot, so a late roll finds its own bounds and adopts them', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const start = hourStart;
    const first = await openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(start), periodEnd: new Date(start + minutes(10)), cadence: '600000 milliseconds' });
    expect(first.cadence).not.toBeNull();
    // Usage in the third slot after it, nobody having opened the second or third.
    await u.post([llmEvent(team!, { at: start + minutes(25) })]);
    const made = (await periodAt(appSql(), team!, new Date(start + minutes(25))))!;
    expect(made).toMatchObject({ source: 'calendar', periodStart: new Date(start + minutes(20)).toISOString(), periodEnd: new Date(start + minutes(30)).toISOString() });
    // The rolls come late, in order: the second slot is new, the third is the one ingest made.
    const second = await openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(start + minutes(10)), periodEnd: new Date(start + minutes(20)), cadence: '600000 milliseconds' });
    expect(second.source).toBe('explicit');
    const third = await openBillingPeriod(appSql(), { teamId: team!, periodStart: new Date(start + minutes(20)), periodEnd: new Date(start + minutes(30)), cadence: '600000 milliseconds' });
    expect(third).toMatchObject({ periodId: made.periodId, source: 'explicit' });
    expect(await periodCounters(appSql(), third.periodId)).toMatchObject([{ meter: 'llm.input_tokens', events: '1' }, { meter: 'llm.output_tokens', events: '1' }]);
  });

  it('step months as the subscription workflow does (Jan 31 → Feb 28 → Mar 28), found in one call however far ahead', async () => {
    const from = '2027-01-31T10:00:00.000Z';
    let expected = from;
    for (let k = 0; k < 14; k++) expected = nextPeriodEnd(expected, 'month');
    const last = nextPeriodEnd(expected, 'month');
    const [slot] = await appSql()<{ slot_start: Date; slot_end: Date }[]>`
      select * from usage_cadence_slot(${from}::timestamptz, '1 month', ${new Date(new Date(expected).getTime() + 1000).toISOString()}::timestamptz)`;
    expect([slot!.slot_start.toISOString(), slot!.slot_end.toISOString()]).toEqual([expected, last]);
  });
});

describe('late usage', () => {
  it('under the adjust policy counts into the closed period as an adjustment the next close assigns to its invoice', async () => {
    const [team] = await createTeams(u.api, u.appId, 1, 'adjust');
    const { p1, p2 } = await twoPeriods(team!);
    await u.post([llmEvent(team!, { at: hourStart + minutes(10), inputTokens: 100 })]);
    const closed = await closeUsagePeriod(appSql(), p1.periodId);
    expect(closed.period.status).toBe('closed');

    const late = llmEvent(team!, { at: hourStart + minutes(20), inputTokens: 40 });
    const { body } = await u.post([late, llmEvent(team!, { at: now - minutes(1), inputTokens: 1 })]);
    expect(body.results.map((r) => [r.status, r.adjusted])).toEqual([['accepted', true], ['accepted', undefined]]);
    const input = (await periodCounters(appSql(), p1.periodId)).find((c) => c.meter === 'llm.input_tokens');
    expect(input).toMatchObject({ quantity: '140', events: '2' });

    const pending = await pendingAdjustments(appSql(), team!);
    expect(pending.map((a) => [a.periodId, a.meter, a.quantityDelta, a.eventIds])).toEqual([
      [p1.periodId, 'llm.input_tokens', '40', [body.results[0]!.eventId]],
      [p1.periodId, 'llm.output_tokens', '100', [body.results[0]!.eventId]],
    ]);

    const next = await closeUsagePeriod(appSql(), p2.periodId);
    expect(next.adjustments.map((a) => a.adjustmentId)).toEqual(pending.map((a) => a.adjustmentId));
    expect(await adjustmentsForInvoice(appSql(), p2.periodId)).toHaveLength(2);
    expect(await pendingAdjustments(appSql(), team!)).toEqual([]);
    // Closing again changes nothing.
    expect((await closeUsagePeriod(appSql(), p2.periodId)).adjustments).toHaveLength(2);
  });

  it('leaves the counters a closed period is invoiced by as they stood at the close, whatever late usage (sums and gauges) arrives after it', async () => {
    const [team] = await createTeams(u.api, u.appId, 1, 'adjust');
    const { p1 } = await twoPeriods(team!);
    await u.post([llmEvent(team!, { at: hourStart + minutes(10), inputTokens: 100 }), storageEvent(team!, 5_000_000, hourStart + minutes(5))]);
    await closeUsagePeriod(appSql(), p1.periodId);
    const atClose = await periodCounters(appSql(), p1.periodId);
    expect(atClose.map((c) => c.meter)).toEqual(expect.arrayContaining(['llm.input_tokens', 'storage.bytes']));

    // Late: more tokens on the same counter, tokens of a model the period had not seen, a storage point.
    await u.post([
      llmEvent(team!, { at: hourStart + minutes(20), inputTokens: 40 }),
      llmEvent(team!, { at: hourStart + minutes(25), model: 'gpt-5-mini', inputTokens: 7 }),
      storageEvent(team!, 9_000_000, hourStart + minutes(30)),
    ]);
    const now = await periodCounters(appSql(), p1.periodId);
    expect(now).not.toEqual(atClose);
    expect(await periodCountersAtClose(appSql(), p1.periodId)).toEqual(atClose);
  });

  it('under the reject policy is rejected, not counted and not remembered, while a resend of counted usage stays a duplicate', async () => {
    const [team] = await createTeams(u.api, u.appId, 1, 'reject');
    const { p1 } = await twoPeriods(team!);
    const counted = llmEvent(team!, { at: hourStart + minutes(10), inputTokens: 100 });
    await u.post([counted]);
    await closeUsagePeriod(appSql(), p1.periodId);

    const late = llmEvent(team!, { at: hourStart + minutes(20), inputTokens: 40 });
    const { body } = await u.post([late, counted]);
    expect(body.results.map((r) => [r.status, r.reason])).toEqual([['rejected', 'period_closed'], ['duplicate', undefined]]);
    expect((await periodCounters(appSql(), p1.periodId)).find((c) => c.meter === 'llm.input_tokens')).toMatchObject({ quantity: '100' });
    const [stored] = await adminSql()<{ n: number }[]>`select count(*)::int as n from usage_events where app_id = ${u.appId} and idempotency_key = ${late.idempotencyKey}`;
    expect(stored!.n).toBe(0);
    expect(await pendingAdjustments(appSql(), team!)).toEqual([]);
  });
});
