/**
 * A subscription's period end to end, on the real dev server, Postgres and stripe-mock, with Stripe's
 * side of the story told by signed webhooks: subscribe, use, change seats mid-period, close the
 * period, and check the invoice against a computation by hand; then pay it, or walk dunning.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, services, startWorker, temporalClient, testApi, TEST_TIMING, until, type TestApi } from '../helpers/context.js';
import { billingTeam, invoiceOf, publishPlan, reportTokens, subscribe, teamPlan, uniqueCode, type BillingTeam, type Subscribed } from '../helpers/billing-scenario.js';
import { recordedStripeRequests } from '../helpers/stripe-recorder.js';
import { invoiceEvent, sendEvent } from '../helpers/stripe-webhooks.js';
import { WorkflowFailedError } from '@temporalio/client';
import { teamBalances } from '../../src/ledger/read.js';
import { recordHistories } from '../helpers/histories.js';
import { AppId, TeamId } from '../../src/shared/search-attributes.js';
import { workflowIds } from '../../src/workflows/ids.js';

const PERIOD_MS = 10_000;
let api: TestApi;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  api = await testApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: PERIOD_MS } });
  planCode = uniqueCode('team');
  await publishPlan(api, teamPlan(planCode));
});

/** Round half up of n/d for non-negative integers: what a careful person does with cents. */
function roundHalfUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  return 2n * (n % d) >= d ? q + 1n : q;
}

const seconds = (iso: string | Date) => BigInt(Math.floor(new Date(iso).getTime() / 1000));

async function seatChangeAt(subscriptionId: string): Promise<Date> {
  return until(async () => (await adminSql()<{ at: Date }[]>`select effective_at as at from subscription_changes where subscription_id = ${subscriptionId} and kind = 'seats'`)[0]?.at, {
    what: 'seat change',
  });
}

async function closeAndIssue(team: BillingTeam, sub: Subscribed, stripeInvoiceId: string) {
  const invoice = await invoiceOf(sub.subscriptionId, sub.periodStart);
  // Stripe's renewal invoice appears as a draft: the close attaches our usage lines to it.
  const created = await sendEvent(api, invoiceEvent('invoice.created', { stripeInvoiceId, stripeSubscriptionId: sub.stripeSubscriptionId, subscriptionId: sub.subscriptionId, periodStart: sub.periodStart, periodEnd: sub.periodEnd, totalCents: 0 }));
  expect(created.status).toBe(200);
  await until(async () => (await recordedStripeRequests(services.stripeRecorderUrl, { path: `/v1/invoices/${stripeInvoiceId}/finalize` })).length > 0, { what: 'finalize request' });
  return invoice;
}

describe('subscriptionLifecycle and closeBillingPeriod', () => {
  it('bills a period with a mid-period seat change exactly as computed by hand, and records the payment', async () => {
    const team = await billingTeam(api);
    const sub = await subscribe(api, team, planCode, 3);
    // Started by the app's Checkout: searchable by the app.
    const started = await api.deps.temporal.workflow.getHandle(workflowIds.subscription(sub.subscriptionId)).describe();
    expect([started.typedSearchAttributes.get(AppId), started.typedSearchAttributes.get(TeamId)]).toEqual([team.appId, team.teamId]);
    await reportTokens(api, team, 50_000, 5); // 250,000 input tokens; 100,000 included
    const seats = await api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, {
      token: await team.token(),
      headers: { 'idempotency-key': 'seats-3-to-5' },
      body: { seats: 5 },
    });
    expect(seats.status).toBe(202);
    const changedAt = await seatChangeAt(sub.subscriptionId);

    const stripeInvoiceId = `in_test_${sub.subscriptionId.slice(4, 14)}`;
    const invoice = await closeAndIssue(team, sub, stripeInvoiceId);

    // By hand, in cents. Seats beyond 2 cost $5: 3 seats → 1 billable ($5), 5 seats → 3 ($15).
    const [start, end, t] = [seconds(sub.periodStart), seconds(sub.periodEnd), seconds(changedAt)];
    const unusedCredit = roundHalfUp(500n * (end - t), end - start);
    const remainingCharge = roundHalfUp(1500n * (end - t), end - start);
    const nextPeriodFees = 2000n + 1500n; // base $20 + 3 billable seats, in advance
    const usage = 150n; // (250,000 − 100,000) / 1,000 × $0.01 = $1.50
    const expected = nextPeriodFees + remainingCharge - unusedCredit + usage;
    expect(invoice.total_cents).toBe(expected);

    // Only the usage line goes to Stripe as an invoice item, keyed by the line.
    const items = await recordedStripeRequests(services.stripeRecorderUrl, { path: '/v1/invoiceitems', contains: invoice.id });
    expect(items.map((r) => r.idempotencyKey)).toEqual([expect.stringMatching(new RegExp(`^invoice-item:${invoice.id}:\\d+$`))]);
    expect(items[0]!.body).toContain(`amount=${usage}`);
    expect(items[0]!.body).toContain(`invoice=${stripeInvoiceId}`);

    await sendEvent(api, invoiceEvent('invoice.finalized', { stripeInvoiceId, stripeSubscriptionId: sub.stripeSubscriptionId, subscriptionId: sub.subscriptionId, periodStart: sub.periodStart, periodEnd: sub.periodEnd, totalCents: expected }));
    await until(async () => (await invoiceOf(sub.subscriptionId, sub.periodStart)).status === 'awaiting_payment', { what: 'reconciled invoice' });
    await sendEvent(api, invoiceEvent('invoice.paid', { stripeInvoiceId, stripeSubscriptionId: sub.stripeSubscriptionId, subscriptionId: sub.subscriptionId, periodStart: sub.periodStart, periodEnd: sub.periodEnd, totalCents: expected }));
    const paid = await until(async () => {
      const i = await invoiceOf(sub.subscriptionId, sub.periodStart);
      return i.status === 'paid' ? i : undefined;
    }, { what: 'paid invoice' });

    // The ledger: the invoice debits the receivable by what Stripe charges; the payment clears it.
    const receivable = (await teamBalances(adminSql(), team.teamId)).find((b) => b.accountCode === `receivable:${team.teamId}:USD`)!;
    expect(receivable).toMatchObject({ balanceMinor: 0n, entryCount: 2n });
    expect(paid.ledger_transaction_id).not.toBeNull();

    // The api shows the invoice with lines traceable to meter, price version and ledger transaction.
    const read = await api.request('GET', `/v1/teams/${team.teamId}/invoices/${invoice.id}`, { token: await team.token() });
    const body = (await read.json()) as { status: string; totalCharged: string; lines: { kind: string; meter: string | null; planVersionId: string; ledgerTransactionId: string }[] };
    expect(body.status).toBe('paid');
    expect(body.totalCharged).toBe((Number(expected) / 100).toFixed(2));
    const usageLine = body.lines.find((l) => l.kind === 'usage')!;
    expect(usageLine).toMatchObject({ meter: 'llm.input_tokens', planVersionId: `${planCode}-v1`, ledgerTransactionId: paid.ledger_transaction_id });
    expect(body.lines.map((l) => l.kind).sort()).toEqual(['fixed', 'fixed', 'proration', 'proration', 'usage']);

    const client = await temporalClient();
    await recordHistories(client, `period:${sub.subscriptionId}:${sub.periodStart}`, 'close-billing-period', { awaitResult: true });
    await recordHistories(client, `subscription:${sub.subscriptionId}`, 'subscription-lifecycle');
  }, 90_000);

  it('walks dunning after a failed payment: retries, restricts, then restores when paid', async () => {
    const team = await billingTeam(api);
    const sub = await subscribe(api, team, planCode, 1);
    const stripeInvoiceId = `in_test_${sub.subscriptionId.slice(4, 14)}`;
    const invoice = await closeAndIssue(team, sub, stripeInvoiceId);
    const ev = { stripeInvoiceId, stripeSubscriptionId: sub.stripeSubscriptionId, subscriptionId: sub.subscriptionId, periodStart: sub.periodStart, periodEnd: sub.periodEnd, totalCents: invoice.total_cents };
    await sendEvent(api, invoiceEvent('invoice.finalized', ev));
    await until(async () => (await invoiceOf(sub.subscriptionId, sub.periodStart)).status === 'awaiting_payment', { what: 'reconciled' });
    await sendEvent(api, invoiceEvent('invoice.payment_failed', ev));

    const status = async () => ((await (await api.request('GET', `/v1/teams/${team.teamId}/subscription`, { token: await team.token() })).json()) as { status: string }).status;
    await until(async () => (await status()) === 'restricted', { what: 'restricted subscription', timeoutMs: 30_000 });
    const entitlements = async () =>
      (await (await api.request('GET', `/v1/teams/${team.teamId}/entitlements`, { token: await team.token() })).json()) as { restricted: boolean; features: Record<string, boolean> };
    await until(async () => (await entitlements()).restricted, { what: 'restricted entitlements' });
    expect((await entitlements()).features).toEqual({ exports: false });
    const retries = await recordedStripeRequests(services.stripeRecorderUrl, { path: `/v1/invoices/${stripeInvoiceId}/pay` });
    expect(retries.map((r) => r.idempotencyKey)).toEqual([`dunning:${invoice.id}:1`, `dunning:${invoice.id}:2`]);

    await sendEvent(api, invoiceEvent('invoice.paid', ev));
    await until(async () => (await status()) === 'active', { what: 'restored subscription' });
    await until(async () => !(await entitlements()).restricted, { what: 'restored entitlements' });
    expect((await entitlements()).features).toEqual({ exports: true });
    expect((await invoiceOf(sub.subscriptionId, sub.periodStart)).status).toBe('paid');
  }, 90_000);

  it('fails the period close loudly when Stripe’s total differs from ours, and marks the invoice', async () => {
    const team = await billingTeam(api);
    const sub = await subscribe(api, team, planCode, 2);
    const stripeInvoiceId = `in_test_${sub.subscriptionId.slice(4, 14)}`;
    const invoice = await closeAndIssue(team, sub, stripeInvoiceId);
    await sendEvent(api, invoiceEvent('invoice.finalized', { stripeInvoiceId, stripeSubscriptionId: sub.stripeSubscriptionId, subscriptionId: sub.subscriptionId, periodStart: sub.periodStart, periodEnd: sub.periodEnd, totalCents: invoice.total_cents + 1n }));
    const client = await temporalClient();
    const err = await client.workflow.getHandle(`period:${sub.subscriptionId}:${sub.periodStart}`).result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'invoice_total_mismatch' });
    expect((await invoiceOf(sub.subscriptionId, sub.periodStart)).status).toBe('mismatch');
  }, 90_000);
});
