/**
 * The reconciliation of a period's invoice with Stripe's can fail: the simulated Stripe computes its
 * total from what reached Stripe (prices as created, items and their updates, the invoice items we
 * pushed), not from our invoice. With a seat change mid-period the two agree to the cent and the
 * invoice is paid; with a Stripe price that disagrees with the plan (one deliberately wrong line),
 * the close fails with invoice_total_mismatch and the invoice is marked.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { stripePriceParams } from '../../src/billing/stripe-prices.js';
import { getPlanVersion } from '../../src/catalog/plan-versions.js';
import { adminSql, services, startWorker, temporalClient, testApi, testStripe, TEST_TIMING, until, type TestApi } from '../helpers/context.js';
import { billingTeam, publishPlan, reportTokens, teamPlan, uniqueCode } from '../helpers/billing-scenario.js';
import { StripeSimulator } from '../helpers/stripe-simulator.js';
import { sendEvent } from '../helpers/stripe-webhooks.js';
import { randomBytes } from 'node:crypto';

let api: TestApi;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  api = await testApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: 8_000 } });
});

async function checkout(team: Awaited<ReturnType<typeof billingTeam>>, planCode: string, seats: number): Promise<string> {
  const res = await api.request('POST', `/v1/teams/${team.teamId}/checkout`, {
    token: await team.token(),
    headers: { 'idempotency-key': `co-${randomBytes(6).toString('hex')}` },
    body: { planCode, seats, successUrl: 'https://x.example/ok', cancelUrl: 'https://x.example/no' },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { subscriptionId: string }).subscriptionId;
}

async function firstInvoice(subscriptionId: string, settled: (status: string) => boolean) {
  return until(
    async () => {
      const [row] = await adminSql()<{ id: string; status: string; total_cents: bigint; stripe_total_cents: bigint | null; period_start: Date }[]>`
        select id, status, total_cents, stripe_total_cents, period_start from invoices where subscription_id = ${subscriptionId} order by period_start limit 1`;
      return row && settled(row.status) ? row : undefined;
    },
    { what: `first invoice of ${subscriptionId} settled`, timeoutMs: 60_000 },
  );
}

describe('reconciliation against Stripe’s own total', () => {
  it('agrees to the cent with a mid-period seat change, and the invoice is paid', async () => {
    const planCode = uniqueCode('rec');
    await publishPlan(api, teamPlan(planCode));
    const team = await billingTeam(api);
    const sim = new StripeSimulator(adminSql(), services.stripeRecorderUrl, async (event) => void (await sendEvent(api, event)), { teamIds: () => [team.teamId] });
    const running = sim.run(150);
    try {
      const subscriptionId = await checkout(team, planCode, 3);
      await until(async () => (await adminSql()`select 1 from subscriptions where id = ${subscriptionId} and status = 'active'`).length > 0, { what: 'active' });
      await reportTokens(api, team, 70_000, 2);
      const seats = await api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, { token: await team.token(), headers: { 'idempotency-key': 'rec-seats' }, body: { seats: 6 } });
      expect(seats.status).toBe(202);
      const invoice = await firstInvoice(subscriptionId, (s) => s === 'paid' || s === 'mismatch');
      expect(invoice.status).toBe('paid');
      expect(invoice.stripe_total_cents).toBe(invoice.total_cents);
    } finally {
      await running.stop();
    }
  }, 90_000);

  it('fails the close when one line at Stripe is wrong: a seat price that disagrees with the plan', async () => {
    const planCode = uniqueCode('bad');
    const planVersionId = await publishPlan(api, teamPlan(planCode));
    // The seat price at Stripe charges $6 a seat where the plan says $5 (as a hand-made price would).
    const plan = await getPlanVersion(adminSql(), planVersionId);
    const params = stripePriceParams({ ...plan, seats: { ...plan.seats!, unitPrice: '6' } }, 'seat');
    const price = await testStripe().prices.create(params);
    await adminSql()`insert into stripe_prices (plan_version_id, component, stripe_product_id, stripe_price_id) values (${planVersionId}, 'seat', ${String(price.product)}, ${price.id})`;

    const team = await billingTeam(api);
    const sim = new StripeSimulator(adminSql(), services.stripeRecorderUrl, async (event) => void (await sendEvent(api, event)), { teamIds: () => [team.teamId] });
    const running = sim.run(150);
    try {
      const subscriptionId = await checkout(team, planCode, 4);
      const invoice = await firstInvoice(subscriptionId, (s) => s === 'paid' || s === 'mismatch');
      expect(invoice.status).toBe('mismatch');
      // Two billable seats of the next period at $6 instead of $5.
      expect(invoice.stripe_total_cents! - invoice.total_cents).toBe(200n);
      const err = await (await temporalClient()).workflow.getHandle(`period:${subscriptionId}:${invoice.period_start.toISOString()}`).result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'invoice_total_mismatch' });
    } finally {
      await running.stop();
    }
  }, 90_000);
});
