/**
 * An operator puts a team on a plan without Checkout: the subscription workflow creates the Stripe
 * subscription (by invoice with net terms, or charged to the saved payment method) and activates it,
 * and from then on it is the same subscription as one started by Checkout.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, services, startWorker, testApi, TEST_ADMIN_TOKEN, until, type TestApi } from '../helpers/context.js';
import { billingTeam, publishPlan, teamPlan, uniqueCode, type BillingTeam } from '../helpers/billing-scenario.js';
import { parseForm } from '../helpers/stripe-recorded-view.js';
import { recordedStripeRequests } from '../helpers/stripe-recorder.js';

let api: TestApi;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  api = await testApi({ taskQueue });
  planCode = uniqueCode('ops');
  await publishPlan(api, teamPlan(planCode));
});

function start(teamId: string, key: string, body: Record<string, unknown>): Promise<Response> {
  return api.request('POST', `/admin/teams/${teamId}/subscriptions`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'idempotency-key': key }, body });
}

async function stripeCreate(subscriptionId: string): Promise<Record<string, unknown>> {
  const created = (await recordedStripeRequests(services.stripeRecorderUrl, { path: '/v1/subscriptions', contains: subscriptionId })).filter((r) => r.method === 'POST' && r.path === '/v1/subscriptions');
  expect(created).toHaveLength(1);
  return parseForm(created[0]!.body);
}

interface Started {
  subscriptionId: string;
  status: string;
  collection: string;
  daysUntilDue: number | null;
  startsAt: string;
  stripeSubscriptionId: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
}

describe('POST /admin/teams/{teamId}/subscriptions', () => {
  let team: BillingTeam;
  beforeAll(async () => {
    team = await billingTeam(api);
  });

  it('starts a subscription collected by invoice with net terms, through the subscription workflow, once per key', async () => {
    const key = `start-${randomBytes(4).toString('hex')}`;
    const body = { planCode, seats: 3, addOns: ['support'], collection: 'send_invoice', daysUntilDue: 14 };
    const res = await start(team.teamId, key, body);
    expect(res.status).toBe(201);
    const started = (await res.json()) as Started;
    expect(started).toMatchObject({ status: 'active', collection: 'send_invoice', daysUntilDue: 14 });
    expect(started.stripeSubscriptionId).toMatch(/^sub_/);
    expect(Date.parse(started.currentPeriodEnd!)).toBeGreaterThan(Date.parse(started.currentPeriodStart!));

    const form = await stripeCreate(started.subscriptionId);
    expect(form).toMatchObject({ collection_method: 'send_invoice', days_until_due: '14', customer: team.stripeCustomerId });
    expect((form.items as { quantity: string }[]).map((i) => i.quantity)).toEqual(['1', '3', '1']); // base, seats, support

    const [row] = await adminSql()<{ status: string; origin: string; collection_method: string; stripe_items: Record<string, string> }[]>`
      select status, origin, collection_method, stripe_items from subscriptions where id = ${started.subscriptionId}`;
    expect(row).toMatchObject({ status: 'active', origin: 'operator', collection_method: 'send_invoice' });
    expect(Object.keys(row!.stripe_items).sort()).toEqual(['add_on:support', 'base', 'seat']);

    const replay = await start(team.teamId, key, body);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(((await replay.json()) as Started).subscriptionId).toBe(started.subscriptionId);
    const conflict = await start(team.teamId, key, { ...body, seats: 4 });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { code: string }).code).toBe('idempotency_conflict');

    // From here it is the one subscription path: an app changes its seats as after a Checkout.
    const seats = await api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, { token: await team.token(), headers: { 'idempotency-key': `${key}-seats` }, body: { seats: 5 } });
    expect(seats.status).toBe(202);
    await until(async () => (await adminSql()<{ seats: number }[]>`select seats from subscriptions where id = ${started.subscriptionId}`)[0]?.seats === 5, { what: 'seat change' });
  });

  it('charges the saved payment method, refusing an incomplete first payment, and refuses a second live subscription', async () => {
    const other = await billingTeam(api);
    const res = await start(other.teamId, 'charge-1', { planCode, seats: 1, collection: 'charge_automatically' });
    expect(res.status).toBe(201);
    const started = (await res.json()) as Started;
    expect(started).toMatchObject({ status: 'active', collection: 'charge_automatically', daysUntilDue: null });
    expect(await stripeCreate(started.subscriptionId)).toMatchObject({ collection_method: 'charge_automatically', payment_behavior: 'error_if_incomplete' });

    const again = await start(other.teamId, 'charge-2', { planCode, seats: 1, collection: 'charge_automatically' });
    expect(again.status).toBe(409);
  });

  it('names every bad field and writes nothing', async () => {
    const other = await billingTeam(api);
    const res = await start(other.teamId, 'bad-1', {
      planCode,
      addOns: ['nope'],
      collection: 'charge_automatically',
      daysUntilDue: 10,
      startsAt: '2001-01-01T00:00:00Z',
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['addOns.0', 'daysUntilDue', 'startsAt']);
    expect(await adminSql()`select 1 from subscriptions where team_id = ${other.teamId}`).toHaveLength(0);
    const noKey = await api.request('POST', `/admin/teams/${other.teamId}/subscriptions`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: { planCode, collection: 'send_invoice' } });
    expect(noKey.status).toBe(400);
  });

  it('schedules a later start and starts the subscription at that instant', async () => {
    const other = await billingTeam(api);
    const startsAt = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000).toISOString();
    const res = await start(other.teamId, 'later-1', { planCode, collection: 'send_invoice', startsAt });
    expect(res.status).toBe(201);
    const scheduled = (await res.json()) as Started;
    expect(scheduled).toMatchObject({ status: 'scheduled', startsAt, stripeSubscriptionId: null });
    const row = await until(
      async () => (await adminSql()<{ status: string; current_period_start: Date }[]>`select status, current_period_start from subscriptions where id = ${scheduled.subscriptionId}`).find((r) => r.status === 'active'),
      { what: 'scheduled start' },
    );
    expect(row.current_period_start.getTime()).toBeGreaterThanOrEqual(Date.parse(startsAt));
  });
});
