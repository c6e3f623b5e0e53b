/**
 * A period roll that runs late: the worker is down across two period ends while the app keeps
 * reporting usage, so ingest has to create the team's next periods before the subscription opens
 * them. The rolls must still succeed, every event counted once in the subscription period its
 * timestamp falls in, and the subscription must go on rolling and taking seat changes (issue #13).
 */
import { describe, expect, it } from 'vitest';
import { adminSql, startWorker, testApi, TEST_TIMING, until } from '../helpers/context.js';
import { billingTeam, invoiceOf, publishPlan, reportTokens, subscribe, teamPlan, uniqueCode } from '../helpers/billing-scenario.js';

const PERIOD_MS = 12_000;
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

describe('a late period roll', () => {
  it('adopts the periods ingest created meanwhile, counts each event once in its own period, and keeps rolling', async () => {
    const first = await startWorker();
    const api = await testApi({ taskQueue: first.taskQueue, timing: { ...TEST_TIMING, periodMs: PERIOD_MS } });
    const planCode = uniqueCode('late');
    await publishPlan(api, teamPlan(planCode));
    const team = await billingTeam(api);
    const sub = await subscribe(api, team, planCode, 3);
    await reportTokens(api, team, 1_000, 2);
    await first.stop();
    const e1 = new Date(sub.periodEnd).getTime();
    expect(Date.now()).toBeLessThan(e1); // the worker is gone before the period ends
    const e2 = e1 + PERIOD_MS;

    // Nobody rolls the period: usage of the second and third periods arrives first.
    await sleepUntil(e1 + 500);
    await reportTokens(api, team, 20_000, 3);
    await sleepUntil(e2 + 500);
    await reportTokens(api, team, 300_000, 4);
    // Seats change while the worker is down: the change belongs to the third period.
    const seats = await api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, {
      token: await team.token(),
      headers: { 'idempotency-key': 'late-seats' },
      body: { seats: 5 },
    });
    expect(seats.status).toBe(202);

    await startWorker({ taskQueue: first.taskQueue });
    const p2 = new Date(e1).toISOString();
    const p3 = new Date(e2).toISOString();
    await invoiceOf(sub.subscriptionId, sub.periodStart);
    await invoiceOf(sub.subscriptionId, p2);
    await until(async () => (await adminSql()<{ seats: number }[]>`select seats from subscriptions where id = ${sub.subscriptionId}`)[0]?.seats === 5, {
      what: 'seat change applied after the late rolls',
      timeoutMs: 60_000,
    });
    await invoiceOf(sub.subscriptionId, p3);

    // Each period of the team holds exactly the events timestamped inside it, as explicit periods.
    const periods = await adminSql()<{ period_start: Date; period_end: Date; source: string; events: number; input_tokens: string | null }[]>`
      select p.period_start, p.period_end, p.source,
             (select count(*)::int from usage_events e where e.period_id = p.id) as events,
             (select sum(c.quantity)::text from usage_counters c where c.period_id = p.id and c.meter = 'llm.input_tokens') as input_tokens
      from billing_periods p where p.team_id = ${team.teamId} order by p.period_start`;
    const byStart = new Map(periods.map((p) => [p.period_start.toISOString(), p]));
    expect(byStart.get(sub.periodStart)).toMatchObject({ source: 'explicit', events: 2, input_tokens: '2000' });
    expect(byStart.get(p2)).toMatchObject({ source: 'explicit', events: 3, input_tokens: '60000', period_end: new Date(e2) });
    expect(byStart.get(p3)).toMatchObject({ source: 'explicit', events: 4, input_tokens: '1200000', period_end: new Date(e2 + PERIOD_MS) });
    const [misplaced] = await adminSql()<{ n: number }[]>`
      select count(*)::int as n from usage_events e join billing_periods p on p.id = e.period_id
      where e.team_id = ${team.teamId} and not (p.period_start <= e.event_at and e.event_at < p.period_end)`;
    expect(misplaced!.n).toBe(0);

    // Periods are rated with the shape they ended in: the seat change of the third period does not
    // reach the second period's renewal line (fixed fees of the third period, charged in advance).
    const seatLines = await adminSql()<{ period_start: Date; quantity: string }[]>`
      select i.period_start, l.quantity::text from invoice_lines l join invoices i on i.id = l.invoice_id
      where i.subscription_id = ${sub.subscriptionId} and l.kind = 'fixed' and l.price_key = 'seat' order by i.period_start`;
    expect(seatLines.map((l) => [l.period_start.toISOString(), l.quantity])).toEqual([
      [sub.periodStart, '3'],
      [p2, '3'],
      [p3, '5'],
    ]);
  }, 180_000);
});
