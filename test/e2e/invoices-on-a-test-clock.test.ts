/**
 * Acceptance of issue #12: through the public HTTP API only (operator routes with the admin token,
 * app routes through the SDK over a real socket), a team on a test clock runs a 30-day period and
 * the closed invoice matches hand computations to the cent. Every expected amount below is a literal
 * with its arithmetic beside it, never computed by product code.
 *
 * The plan: $30 base, seats $7.99 beyond 2; LLM tokens priced per model (GPT-5 apart from the rest);
 * egress in volume tiers, ingress in graduated tiers; storage per GB-month beyond 5 GB.
 * The clock starts at 2027-04-01T00:00:00Z, so the first period (a calendar month) is April: 30 days,
 * and 2027-04-16T00:00:00Z is exactly halfway.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBillingClient, type BillingClient, type Invoice, type InvoiceLine, type InvoicePreview, type SubscriptionChange } from '../../sdk/src/index.js';
import { startHttpApi, startWorker, TEST_ADMIN_TOKEN, TEST_TIMING, until } from '../helpers/context.js';
import { uniqueCode } from '../helpers/billing-scenario.js';

const PERIOD_START = '2027-04-01T00:00:00.000Z';
const HALFWAY = '2027-04-16T00:00:00.000Z';
const JUST_BEFORE_END = '2027-04-30T23:59:59.000Z';
const PERIOD_END = '2027-05-01T00:00:00.000Z';
const GB = 1_000_000_000;

let baseUrl: string;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  // Calendar periods as in production: the plan's month, not a short test period.
  ({ baseUrl } = await startHttpApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: null } }));
  planCode = uniqueCode('acc');
  const published = await admin('POST', '/admin/plans', {
    code: planCode,
    name: 'Acceptance plan',
    currency: 'USD',
    interval: 'month',
    baseFee: '30',
    seats: { unitPrice: '7.99', included: '2' },
    usagePrices: [
      { key: 'llm-input', displayName: 'LLM input tokens', meter: 'llm.input_tokens', included: '1000000', price: { model: 'per_unit', unitPrice: '0.40', per: '1000000' } },
      { key: 'llm-input-gpt-5', displayName: 'LLM input tokens (GPT-5)', meter: 'llm.input_tokens', filter: { provider: 'openai', model: 'gpt-5' }, price: { model: 'per_unit', unitPrice: '1.25', per: '1000000' } },
      { key: 'llm-output', displayName: 'LLM output tokens', meter: 'llm.output_tokens', price: { model: 'per_unit', unitPrice: '1.60', per: '1000000' } },
      { key: 'llm-output-gpt-5', displayName: 'LLM output tokens (GPT-5)', meter: 'llm.output_tokens', filter: { provider: 'openai', model: 'gpt-5' }, price: { model: 'per_unit', unitPrice: '10', per: '1000000' } },
      {
        key: 'egress',
        displayName: 'Egress (GB), volume tiers',
        meter: 'bandwidth.bytes',
        filter: { direction: 'egress' },
        price: { model: 'volume', per: String(GB), tiers: [{ upTo: String(100 * GB), unitPrice: '0.09' }, { upTo: null, unitPrice: '0.05' }] },
      },
      {
        key: 'ingress',
        displayName: 'Ingress (GB), graduated tiers',
        meter: 'bandwidth.bytes',
        filter: { direction: 'ingress' },
        price: { model: 'graduated', per: String(GB), tiers: [{ upTo: String(10 * GB), unitPrice: '0' }, { upTo: String(100 * GB), unitPrice: '0.02' }, { upTo: null, unitPrice: '0.01' }] },
      },
      { key: 'storage', displayName: 'Storage (GB-month)', meter: 'storage.bytes', included: String(5 * GB), price: { model: 'per_unit', unitPrice: '0.15', per: String(GB) } },
    ],
  });
  expect(published.status).toBe(201);
});

async function admin(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  return fetch(new URL(path, baseUrl), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

async function adminJson<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
  const res = await admin(method, path, body, idempotencyKey);
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as T;
}

interface ClockedTeam {
  teamId: string;
  clockId: string;
  billing: BillingClient;
  subscriptionId: string;
}

/** An app, a clock at PERIOD_START, a team on it, and the operator's subscription (3 seats, by invoice). */
async function clockedSubscriber(): Promise<ClockedTeam> {
  const suffix = randomBytes(5).toString('hex');
  const { secret } = await adminJson<{ secret: string }>('POST', '/admin/apps', { appId: `app_${suffix}`, name: 'Acceptance app' });
  const clock = await adminJson<{ testClockId: string }>('POST', '/admin/test-clocks', { name: 'acceptance', frozenTime: PERIOD_START }, `clock-${suffix}`);
  const teamId = `team_${suffix}`;
  await adminJson('POST', '/admin/teams', { teamId, name: 'Acceptance team', kind: 'shared', currency: 'USD', appIds: [`app_${suffix}`], testClockId: clock.testClockId });
  const sub = await adminJson<{ subscriptionId: string; currentPeriodStart: string; currentPeriodEnd: string }>(
    'POST',
    `/admin/teams/${teamId}/subscriptions`,
    { planCode, seats: 3, collection: 'send_invoice' },
    `sub-${suffix}`,
  );
  expect(sub).toMatchObject({ currentPeriodStart: PERIOD_START, currentPeriodEnd: PERIOD_END });
  return { teamId, clockId: clock.testClockId, billing: createBillingClient({ appId: `app_${suffix}`, secret, baseUrl }), subscriptionId: sub.subscriptionId };
}

async function advance(team: ClockedTeam, to: string): Promise<void> {
  const a = await adminJson<{ settled: boolean; testClock: { frozenTime: string } }>('POST', `/admin/test-clocks/${team.clockId}/advance`, { to });
  expect(a).toMatchObject({ settled: true, testClock: { frozenTime: to } });
}

async function report(team: ClockedTeam, timestamp: string, events: { eventType: string; payload: Record<string, unknown> }[]): Promise<void> {
  const { results } = await team.billing.reportUsage(
    events.map((e) => ({ ...e, idempotencyKey: `acc-${randomBytes(6).toString('hex')}`, timestamp, teamId: team.teamId, source: 'acceptance/1.0' })),
  );
  expect(results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
}

async function closedInvoice(team: ClockedTeam): Promise<Invoice & { lines: InvoiceLine[] }> {
  const listed = await until(async () => (await team.billing.listInvoices(team.teamId)).invoices.find((i) => i.periodStart === PERIOD_START), { what: 'closed invoice' });
  return (await team.billing.getInvoice(team.teamId, listed.invoiceId)) as Invoice & { lines: InvoiceLine[] };
}

const amounts = (l: Pick<InvoiceLine, 'kind' | 'priceKey' | 'quantity' | 'amount' | 'amountCharged'>) => ({ kind: l.kind, priceKey: l.priceKey, quantity: l.quantity, amount: l.amount, amountCharged: l.amountCharged });
const byKey = (a: { kind: string; priceKey: string | null }, b: { kind: string; priceKey: string | null }) => `${a.kind}:${a.priceKey}`.localeCompare(`${b.kind}:${b.priceKey}`);

describe('a team on a test clock, through the public API only', () => {
  let usageTeam: ClockedTeam;
  let preview: InvoicePreview;
  let invoice: Invoice & { lines: InvoiceLine[] };

  beforeAll(async () => {
    usageTeam = await clockedSubscriber();
    await report(usageTeam, PERIOD_START, [
      { eventType: 'llm.tokens.v1', payload: { provider: 'openai', model: 'gpt-5', inputTokens: 3_333_333, outputTokens: 123_457 } },
      { eventType: 'llm.tokens.v1', payload: { provider: 'anthropic', model: 'claude-sonnet-4', inputTokens: 2_750_000, outputTokens: 500_000 } },
      { eventType: 'llm.tokens.v1', payload: { provider: 'openai', model: 'gpt-4o-mini', inputTokens: 250_000, outputTokens: 25_000 } },
      { eventType: 'bandwidth.bytes.v1', payload: { provider: 'aws', direction: 'egress', bytes: 100 * GB } },
      { eventType: 'bandwidth.bytes.v1', payload: { provider: 'aws', direction: 'egress', bytes: 50 * GB } },
      { eventType: 'bandwidth.bytes.v1', payload: { provider: 'aws', direction: 'ingress', bytes: 250 * GB } },
      { eventType: 'storage.bytes.v1', payload: { provider: 'aws-s3', bytes: 20 * GB } },
    ]);
    await advance(usageTeam, HALFWAY);
    await report(usageTeam, HALFWAY, [{ eventType: 'storage.bytes.v1', payload: { provider: 'aws-s3', bytes: 60 * GB } }]);
    await advance(usageTeam, JUST_BEFORE_END);
    preview = await usageTeam.billing.getUpcomingInvoice(usageTeam.teamId);
    await advance(usageTeam, PERIOD_END);
    invoice = await closedInvoice(usageTeam);
  }, 120_000);

  it('closes the period into lines that match hand computations to the cent: per-model tokens, volume and graduated tiers, GB-month storage', () => {
    expect(invoice).toMatchObject({ periodStart: PERIOD_START, periodEnd: PERIOD_END });
    expect(invoice.lines.map(amounts).sort(byKey)).toEqual(
      [
        // The next period's fixed fees, in advance.
        { kind: 'fixed', priceKey: 'base', quantity: '1', amount: '30.000000', amountCharged: '30.00' },
        // 3 seats, 2 included: 1 × $7.99.
        { kind: 'fixed', priceKey: 'seat', quantity: '3', amount: '7.990000', amountCharged: '7.99' },
        // Any model but GPT-5: 2,750,000 (claude) + 250,000 (gpt-4o-mini) = 3,000,000; 1,000,000 included;
        // 2,000,000 × $0.40 / 1M = $0.80.
        { kind: 'usage', priceKey: 'llm-input', quantity: '3000000', amount: '0.800000', amountCharged: '0.80' },
        // GPT-5 at its own price, nothing included: 3,333,333 × $1.25 / 1M = $4.16666625:
        // half-even to micro-dollars 4.166666, half-up to cents 4.17.
        { kind: 'usage', priceKey: 'llm-input-gpt-5', quantity: '3333333', amount: '4.166666', amountCharged: '4.17' },
        // 500,000 + 25,000 = 525,000 × $1.60 / 1M = $0.84.
        { kind: 'usage', priceKey: 'llm-output', quantity: '525000', amount: '0.840000', amountCharged: '0.84' },
        // 123,457 × $10 / 1M = $1.23457 → 1.234570; cents 1.23.
        { kind: 'usage', priceKey: 'llm-output-gpt-5', quantity: '123457', amount: '1.234570', amountCharged: '1.23' },
        // Volume: 100 + 50 = 150 GB lands in the second tier, so all 150 GB at $0.05 = $7.50 (not 100 × 0.09 + 50 × 0.05).
        { kind: 'usage', priceKey: 'egress', quantity: String(150 * GB), amount: '7.500000', amountCharged: '7.50' },
        // Graduated: 10 GB × $0 + 90 GB × $0.02 + 150 GB × $0.01 = 0 + 1.80 + 1.50 = $3.30.
        { kind: 'usage', priceKey: 'ingress', quantity: String(250 * GB), amount: '3.300000', amountCharged: '3.30' },
        // GB-month: 20 GB for 15 days, 60 GB for the other 15 of 30: (20 × 15 + 60 × 15) / 30 = 40 GB;
        // 5 GB included: 35 × $0.15 = $5.25.
        { kind: 'usage', priceKey: 'storage', quantity: String(40 * GB), amount: '5.250000', amountCharged: '5.25' },
      ].sort(byKey),
    );
    // Sums of the rounded lines. Cents: 30.00 + 7.99 + 0.80 + 4.17 + 0.84 + 1.23 + 7.50 + 3.30 + 5.25 = 61.08.
    // Micro-dollars: 30 + 7.99 + 0.8 + 4.166666 + 0.84 + 1.23457 + 7.5 + 3.3 + 5.25 = 61.081236.
    expect({ total: invoice.total, totalCharged: invoice.totalCharged }).toEqual({ total: '61.081236', totalCharged: '61.08' });
    // Posted to the ledger: every line names the invoice's transaction.
    expect(invoice.ledgerTransactionId).toBeTruthy();
    expect(new Set(invoice.lines.map((l) => l.ledgerTransactionId))).toEqual(new Set([invoice.ledgerTransactionId]));
  });

  it('equals, line for line, the preview taken one second before the close', () => {
    expect(preview).toMatchObject({ invoiceId: invoice.invoiceId, periodStart: PERIOD_START, periodEnd: PERIOD_END });
    expect({ total: preview.total, totalCharged: preview.totalCharged }).toEqual({ total: invoice.total, totalCharged: invoice.totalCharged });
    expect(preview.lines).toEqual(invoice.lines.map(({ stripeInvoiceItemId: _s, ledgerTransactionId: _l, ...line }) => line));
  });

  it('prorates a seat change made exactly halfway through the 30-day period to the cent', async () => {
    const team = await clockedSubscriber();
    await advance(team, HALFWAY);
    const key = `seats-${randomBytes(4).toString('hex')}`;
    // The change answers with its proration once applied; a replay of the same key answers the same.
    const change = await until(async () => {
      const c = (await team.billing.changeSeats(team.teamId, 4, key)) as SubscriptionChange;
      return c.status === 'applied' ? c : undefined;
    }, { what: 'applied seat change' });
    const proration = change.proration!;
    expect(proration).toMatchObject({ effectiveAt: HALFWAY, periodStart: PERIOD_START, periodEnd: PERIOD_END });
    const expected = [
      // Unused half of 1 paid seat (3 seats, 2 included): −$7.99 × 15/30 = −$3.995 → −3.995000; cents half-up (away from zero) −4.00.
      { kind: 'proration', priceKey: 'seat', quantity: '3', amount: '-3.995000', amountCharged: '-4.00' },
      // Remaining half of 2 paid seats (4 seats, 2 included): 2 × $7.99 × 15/30 = $7.99.
      { kind: 'proration', priceKey: 'seat', quantity: '4', amount: '7.990000', amountCharged: '7.99' },
    ];
    expect(proration.lines.map(amounts)).toEqual(expected);
    // In cents: credit 4.00, charge 7.99, net 7.99 − 4.00 = 3.99.
    expect(proration).toMatchObject({ creditAmount: '4.00', chargeAmount: '7.99', netAmount: '3.99' });

    await advance(team, PERIOD_END);
    const closed = await closedInvoice(team);
    expect(closed.lines.filter((l) => l.kind === 'proration').map(amounts)).toEqual(expected);
    // The renewal at 4 seats: $30 + 2 × $7.99 = $45.98; with the prorations −4.00 + 7.99: 49.97.
    expect(closed.totalCharged).toBe('49.97');
  }, 120_000);
});
