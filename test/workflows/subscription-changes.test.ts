/**
 * Changing a live subscription through the api: seat changes are idempotent by key (a reused key
 * with another payload is a 409), unknown add-ons are named, a plan change answers with its
 * proration, and a cancellation at period end closes the last period on a final invoice of our own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, services, startWorker, testApi, TEST_TIMING, until, type TestApi } from '../helpers/context.js';
import { billingTeam, publishPlan, reportTokens, subscribe, teamPlan, uniqueCode } from '../helpers/billing-scenario.js';
import { recordedStripeRequests } from '../helpers/stripe-recorder.js';
import { StripeSimulator } from '../helpers/stripe-simulator.js';
import { sendEvent } from '../helpers/stripe-webhooks.js';

let api: TestApi;
let planCode: string;
let biggerPlan: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  api = await testApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: 8_000 } });
  planCode = uniqueCode('chg');
  biggerPlan = uniqueCode('big');
  await publishPlan(api, teamPlan(planCode));
  await publishPlan(api, { ...teamPlan(biggerPlan), baseFee: '50' });
});

describe('changing a subscription', () => {
  it('answers a replayed seat change with the first answer (with its proration once applied) and a reused key with 409', async () => {
    const team = await billingTeam(api);
    await subscribe(api, team, planCode, 2);
    const post = async (seats: number) =>
      api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, { token: await team.token(), headers: { 'idempotency-key': 'seat-change-1' }, body: { seats } });
    type Answer = { status: string; proration: unknown };
    const first = await post(4);
    expect(first.status).toBe(202);
    const firstBody = (await first.json()) as Answer;
    // On a busy machine the first answer may come before the workflow applied it ('accepted'); as
    // documented, a replay after that answers the same request with the proration it caused.
    await until(async () => (await adminSql()<{ seats: number }[]>`select seats from subscriptions where team_id = ${team.teamId}`)[0]?.seats === 4, { what: 'seats applied' });
    const again = await post(4);
    expect(again.status).toBe(202);
    const againBody = (await again.json()) as Answer;
    expect(againBody.status).toBe('applied');
    expect(againBody.proration).not.toBeNull();
    if (firstBody.status === 'applied') expect(againBody).toEqual(firstBody);
    else expect(againBody).toEqual({ ...firstBody, status: 'applied', proration: againBody.proration });
    const other = await post(5);
    expect(other.status).toBe(409);
    expect(((await other.json()) as { code: string }).code).toBe('idempotency_conflict');
  }, 60_000);

  it('names an unknown add-on and refuses changes without a live subscription', async () => {
    const team = await billingTeam(api);
    const none = await api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, { token: await team.token(), headers: { 'idempotency-key': 'k1' }, body: { seats: 3 } });
    expect(none.status).toBe(409);
    await subscribe(api, team, planCode, 1);
    const res = await api.request('POST', `/v1/teams/${team.teamId}/subscription/add-ons`, { token: await team.token(), headers: { 'idempotency-key': 'k2' }, body: { addOns: ['support', 'jetpack'] } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['addOns.1']);
  }, 60_000);

  it('changes plan now and answers with the proration of the fixed fees', async () => {
    const team = await billingTeam(api);
    const sub = await subscribe(api, team, planCode, 2);
    const res = await api.request('POST', `/v1/teams/${team.teamId}/subscription/plan`, { token: await team.token(), headers: { 'idempotency-key': 'upgrade-1' }, body: { planCode: biggerPlan } });
    expect(res.status).toBe(200);
    const proration = (await res.json()) as { fromPlanVersionId: string; toPlanVersionId: string; creditAmount: string; chargeAmount: string; netAmount: string };
    expect(proration).toMatchObject({ fromPlanVersionId: `${planCode}-v1`, toPlanVersionId: `${biggerPlan}-v1` });
    // Same seats, base fee $20 → $50: the net is $30 times the unused share of the period, never more.
    expect(Number(proration.netAmount)).toBeGreaterThan(0);
    expect(Number(proration.netAmount)).toBeLessThanOrEqual(30);
    expect(Number(proration.chargeAmount) - Number(proration.creditAmount)).toBeCloseTo(Number(proration.netAmount), 2);
    // Its lines are the close's proration lines for the change: they sum to the net, cent for cent.
    const { lines } = proration as unknown as { lines: { kind: string; amountCharged: string }[] };
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.kind === 'proration')).toBe(true);
    expect(lines.reduce((t, l) => t + Math.round(Number(l.amountCharged) * 100), 0)).toBe(Math.round(Number(proration.netAmount) * 100));
    const [row] = await adminSql()<{ plan_version_id: string }[]>`select plan_version_id from subscriptions where id = ${sub.subscriptionId}`;
    expect(row!.plan_version_id).toBe(`${biggerPlan}-v1`);
    const [assignment] = await adminSql()<{ plan_version_id: string }[]>`
      select plan_version_id from team_plan_assignments where team_id = ${team.teamId} and effective_to is null`;
    expect(assignment!.plan_version_id).toBe(`${biggerPlan}-v1`);
  }, 60_000);

  it('ends a subscription cancelled at period end with a final invoice of its usage, created by us', async () => {
    const team = await billingTeam(api);
    const sub = await subscribe(api, team, planCode, 2);
    await reportTokens(api, team, 150_000); // 50,000 beyond the allowance: $0.50
    const res = await api.request('POST', `/v1/teams/${team.teamId}/subscription/cancel`, { token: await team.token(), headers: { 'idempotency-key': 'cancel-1' }, body: { atPeriodEnd: true } });
    expect(res.status).toBe(202);
    const sim = new StripeSimulator(adminSql(), services.stripeRecorderUrl, async (event) => void (await sendEvent(api, event)), { teamIds: () => [team.teamId] });
    const stop = sim.run(200);
    try {
      const final = await until(
        async () => (await adminSql()<{ id: string; status: string; total_cents: bigint }[]>`select id, status, total_cents from invoices where subscription_id = ${sub.subscriptionId} and status = 'paid'`)[0],
        { what: 'paid final invoice', timeoutMs: 40_000 },
      );
      expect(final.total_cents).toBe(50n); // usage only: no fees in advance for a period that will not come
      const created = await recordedStripeRequests(services.stripeRecorderUrl, { path: '/v1/invoices', contains: final.id });
      expect(created.map((r) => r.idempotencyKey)).toContain(`stripe-invoice:${final.id}`);
      await until(async () => (await adminSql()<{ status: string }[]>`select status from subscriptions where id = ${sub.subscriptionId}`)[0]?.status === 'canceled', { what: 'canceled' });
      const [open] = await adminSql()<{ n: number }[]>`select count(*)::int as n from team_plan_assignments where team_id = ${team.teamId} and effective_to is null`;
      expect(open!.n).toBe(0);
    } finally {
      await stop.stop();
    }
  }, 60_000);
});
