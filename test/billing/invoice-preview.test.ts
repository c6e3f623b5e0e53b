/**
 * The upcoming-invoice preview rates the open period with the close's own code: taken just before a
 * period closes, it equals the closed invoice line for line — usage, the next period's fees, the
 * prorations of a seat change, and (in the next period) the adjustment for late usage.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { startWorker, testApi, TEST_TIMING, until, type TestApi } from '../helpers/context.js';
import { billingTeam, invoiceOf, publishPlan, reportTokens, subscribe, teamPlan, uniqueCode, type BillingTeam } from '../helpers/billing-scenario.js';
import { appToken } from '../helpers/tokens.js';

const PERIOD_MS = 10_000;
/** How long before the period end the preview is taken: late enough that nothing changes after it. */
const PREVIEW_LEAD_MS = 1_500;
let api: TestApi;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  api = await testApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: PERIOD_MS } });
  planCode = uniqueCode('prev');
  await publishPlan(api, teamPlan(planCode));
});

interface Line {
  lineNo: number;
  kind: string;
  amountCharged: string;
  stripeInvoiceItemId?: string | null;
  ledgerTransactionId?: string | null;
}
interface Preview {
  invoiceId: string;
  periodStart: string;
  periodEnd: string;
  total: string;
  totalCharged: string;
  lines: Line[];
}

async function preview(team: BillingTeam): Promise<Response> {
  return api.request('GET', `/v1/teams/${team.teamId}/invoices/upcoming`, { token: await team.token() });
}

/** The preview taken PREVIEW_LEAD_MS before `periodEnd`, then the invoice the close wrote, as the api shows them. */
async function previewThenClose(team: BillingTeam, subscriptionId: string, periodStart: string, periodEnd: string) {
  await new Promise((r) => setTimeout(r, Math.max(0, new Date(periodEnd).getTime() - PREVIEW_LEAD_MS - Date.now())));
  const res = await preview(team);
  expect(res.status).toBe(200);
  const before = (await res.json()) as Preview;
  expect(Date.now()).toBeLessThan(new Date(periodEnd).getTime()); // still the open period
  expect(before).toMatchObject({ periodStart, periodEnd });
  const stored = await invoiceOf(subscriptionId, periodStart);
  const closed = (await (await api.request('GET', `/v1/teams/${team.teamId}/invoices/${stored.id}`, { token: await team.token() })).json()) as Preview;
  return { before, closed };
}

function expectSameInvoice(before: Preview, closed: Preview): void {
  expect(before.invoiceId).toBe(closed.invoiceId);
  expect({ total: before.total, totalCharged: before.totalCharged }).toEqual({ total: closed.total, totalCharged: closed.totalCharged });
  expect(before.lines).toEqual(closed.lines.map(({ stripeInvoiceItemId: _s, ledgerTransactionId: _l, ...line }) => line));
}

describe('the upcoming invoice', () => {
  it('equals the closed invoice line for line, for usage, fees, prorations and late usage', async () => {
    const team = await billingTeam(api);
    const sub = await subscribe(api, team, planCode, 3);
    await reportTokens(api, team, 60_000, 4); // 240,000 input tokens, 100,000 included: $1.40
    const seats = await api.request('POST', `/v1/teams/${team.teamId}/subscription/seats`, {
      token: await team.token(),
      headers: { 'idempotency-key': 'preview-seats' },
      body: { seats: 5 },
    });
    expect(seats.status).toBe(202);
    // The change answers with the proration it causes: the close's own lines for it.
    const change = (await seats.json()) as { status: string; proration: { netAmount: string; lines: Line[] } };
    expect(change.status).toBe('applied');

    const first = await previewThenClose(team, sub.subscriptionId, sub.periodStart, sub.periodEnd);
    const closedProrations = first.closed.lines.filter((l) => l.kind === 'proration').map(({ lineNo: _n, stripeInvoiceItemId: _s, ledgerTransactionId: _l, ...l }) => l);
    expect(change.proration.lines.map(({ lineNo: _n, ...l }) => l)).toEqual(closedProrations);
    const net = closedProrations.reduce((t, l) => t + Math.round(Number(l.amountCharged) * 100), 0);
    expect(Math.round(Number(change.proration.netAmount) * 100)).toBe(net);
    expect(first.before.lines.map((l) => l.kind).sort()).toEqual(['fixed', 'fixed', 'proration', 'proration', 'usage']);
    expect(first.before.lines.find((l) => l.kind === 'usage')).toMatchObject({ meter: 'llm.input_tokens', dimensions: [{ provider: 'openai', model: 'gpt-5' }], quantity: '240000', amountCharged: '1.40' });
    expectSameInvoice(first.before, first.closed);

    // Late usage of the closed first period, reported in the second: an adjustment on the second invoice.
    const late = new Date(new Date(sub.periodStart).getTime() + 2_000).toISOString();
    const usage = await api.request('POST', '/v1/usage', {
      token: await appToken({ appId: team.appId, secret: team.secret, scopes: ['usage:write'] }),
      body: { events: [{ idempotencyKey: `late-${randomBytes(6).toString('hex')}`, eventType: 'llm.tokens.v1', timestamp: late, teamId: team.teamId, payload: { provider: 'openai', model: 'gpt-5', inputTokens: 30_000, outputTokens: 1 }, source: 'test/1.0' }] },
    });
    expect(((await usage.json()) as { results: { adjusted?: boolean }[] }).results[0]).toMatchObject({ adjusted: true });
    const nextEnd = new Date(new Date(sub.periodEnd).getTime() + PERIOD_MS).toISOString();
    await until(async () => ((await (await preview(team)).json()) as Preview).periodStart === sub.periodEnd, { what: 'second period open' });

    const second = await previewThenClose(team, sub.subscriptionId, sub.periodEnd, nextEnd);
    expect(second.before.lines.find((l) => l.kind === 'adjustment')).toMatchObject({ quantity: '30000', amountCharged: '0.30' });
    expectSameInvoice(second.before, second.closed);
  }, 90_000);

  it('is a 404 for a team without an open period, and needs billing:read', async () => {
    const team = await billingTeam(api);
    const none = await preview(team);
    expect(none.status).toBe(404);
    const token = await appToken({ appId: team.appId, secret: team.secret, teamId: team.teamId, scopes: ['usage:read'] });
    const denied = await api.request('GET', `/v1/teams/${team.teamId}/invoices/upcoming`, { token });
    expect(((await denied.json()) as { code: string }).code).toBe('scope_missing');
  });
});
