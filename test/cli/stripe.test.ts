/**
 * `npm run cli -- stripe …` walks a subscription through Stripe's side by hand against a running api
 * (on a real socket): Checkout completes, the period ends, Stripe's renewal invoice is created and
 * finalized with the total Stripe computes from our records of what we sent it, then paid — or its
 * payment fails and dunning runs until it is paid.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { stripeCommand } from '../../src/cli/stripe.js';
import { teamBalances } from '../../src/ledger/read.js';
import { adminSql, appSql, startHttpApi, startWorker, testStripe, TEST_TIMING, TEST_WEBHOOK_SECRET, until, type TestApi } from '../helpers/context.js';
import { billingTeam, invoiceOf, publishPlan, reportTokens, teamPlan, uniqueCode, type BillingTeam } from '../helpers/billing-scenario.js';

let api: TestApi;
let baseUrl: string;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  ({ api, baseUrl } = await startHttpApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: 8_000 } }));
  planCode = uniqueCode('cli');
  await publishPlan(api, teamPlan(planCode));
});

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const code = await stripeCommand(args, {
    ctx: { sql: appSql(), stripe: testStripe(), apiUrl: baseUrl, webhookSecret: TEST_WEBHOOK_SECRET },
    out: (t) => void (out += t),
    err: (t) => void (err += t),
  });
  return { code, out, err };
}

async function checkout(team: BillingTeam, seats: number): Promise<string> {
  const res = await api.request('POST', `/v1/teams/${team.teamId}/checkout`, {
    token: await team.token(),
    headers: { 'idempotency-key': `co-${randomBytes(6).toString('hex')}` },
    body: { planCode, seats, successUrl: 'https://x.example/ok', cancelUrl: 'https://x.example/no' },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { checkoutSessionId: string }).checkoutSessionId;
}

async function subscription(teamId: string) {
  return (await adminSql()<{ id: string; status: string; current_period_start: Date }[]>`select id, status, current_period_start from subscriptions where team_id = ${teamId}`)[0]!;
}

describe('the local Stripe commands', () => {
  it('complete a checkout and pay the renewal invoice at the total Stripe computes', async () => {
    const team = await billingTeam(api);
    const sessionId = await checkout(team, 3);
    const completed = await cli('complete-checkout', sessionId);
    expect(completed).toMatchObject({ code: 0, err: '' });
    const sub = await subscription(team.teamId);
    expect(sub.status).toBe('active');
    await reportTokens(api, team, 50_000, 3); // 150,000 input tokens: $0.50 beyond the allowance
    const seats = await api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, { token: await team.token(), headers: { 'idempotency-key': 'cli-seats' }, body: { seats: 4 } });
    expect(seats.status).toBe(202);
    await until(async () => (await adminSql()`select 1 from subscription_changes where subscription_id = ${sub.id} and kind = 'seats'`).length > 0, { what: 'seat change' });

    const invoice = await invoiceOf(sub.id, sub.current_period_start.toISOString());
    const paid = await cli('pay-invoice', team.teamId);
    expect(paid.err).toBe('');
    expect(paid.code).toBe(0);
    expect(paid.out).toMatch(/sent invoice\.created .*\n(.*\n)*.*sent invoice\.finalized .*\n(.*\n)*.*sent invoice\.paid/);
    const [row] = await adminSql()<{ status: string; total_cents: bigint; stripe_total_cents: bigint }[]>`select status, total_cents, stripe_total_cents from invoices where id = ${invoice.id}`;
    expect(row).toMatchObject({ status: 'paid', stripe_total_cents: row!.total_cents });
    expect(paid.out).toContain(`total at Stripe (ours: ${(Number(row!.total_cents) / 100).toFixed(2)})`);
    const receivable = (await teamBalances(adminSql(), team.teamId)).find((b) => b.accountCode === `receivable:${team.teamId}:USD`)!;
    expect(receivable.balanceMinor).toBe(0n);
    expect((await cli('pay-invoice', invoice.id)).out).toContain('already paid');
  }, 90_000);

  it('fail a payment into dunning and recover it by paying', async () => {
    const team = await billingTeam(api);
    await checkout(team, 1);
    expect((await cli('complete-checkout', team.teamId)).code).toBe(0);
    const sub = await subscription(team.teamId);
    const invoice = await invoiceOf(sub.id, sub.current_period_start.toISOString());

    const failed = await cli('fail-payment', team.teamId);
    expect(failed).toMatchObject({ code: 0, err: '' });
    expect((await subscription(team.teamId)).status).not.toBe('active');
    const paid = await cli('pay-invoice', invoice.id);
    expect(paid.code).toBe(0);
    await until(async () => (await subscription(team.teamId)).status === 'active', { what: 'restored subscription' });
  }, 90_000);

  it('names what it cannot find, and its usage', async () => {
    expect((await cli('complete-checkout', 'team_nobody_here')).code).toBe(66);
    expect((await cli('pay-invoice', 'team_nobody_here')).code).toBe(66);
    expect((await cli('refund', 'x')).code).toBe(64);
  });
});
