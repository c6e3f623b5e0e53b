/** Reading usage (app API) and the operator margin report: usage, price by the team's plan, COGS, margin. */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { appSql } from '../helpers/context.js';
import { PublishPlanSchema } from '../../src/catalog/schema.js';
import { publishPlanVersion } from '../../src/catalog/plan-versions.js';
import { assignTeamPlan } from '../../src/catalog/team-plans.js';
import { allocate } from '../../src/billing/priced-usage.js';
import { Dec } from '../../src/shared/money.js';
import { createTeams, llmEvent, usageApp, type UsageApp } from './fixtures.js';

let u: UsageApp;
let other: UsageApp;
let planned: string;
let unplanned: string;
const provider = `llm-${randomBytes(4).toString('hex')}`;
const at = Date.now() - 60_000;

interface UsageBody {
  rows: Array<{ meter: string; quantity: string; price: string; events: number; day?: string; note?: string; currency: string | null }>;
}
interface MarginBody {
  rows: Array<Record<string, unknown> & { price: string; cost: string; margin: string | null; notes: string[] }>;
  totals: { price: string; cost: string; margin: string | null };
}

beforeAll(async () => {
  u = await usageApp({ teams: 0 });
  other = await usageApp({ api: u.api, teams: 0 });
  const teams = await createTeams(u.api, u.appId, 2);
  planned = teams[0]!;
  unplanned = teams[1]!;
  await u.api.deps.sql`insert into team_apps (team_id, app_id) values (${planned}, ${other.appId})`;
  const code = `usage-report-${randomBytes(3).toString('hex')}`;
  const { version } = await publishPlanVersion(
    appSql(),
    PublishPlanSchema.parse({
      code,
      name: 'Usage report plan',
      currency: 'USD',
      interval: 'month',
      baseFee: '0',
      usagePrices: [
        { key: 'in', displayName: 'Input', meter: 'llm.input_tokens', included: '1000', price: { model: 'per_unit', unitPrice: '2', per: '1000000' } },
        { key: 'out', displayName: 'Output', meter: 'llm.output_tokens', price: { model: 'per_unit', unitPrice: '10', per: '1000000' } },
      ],
    }),
    'test',
  );
  await assignTeamPlan(appSql(), { teamId: planned, planVersionId: version.id, effectiveFrom: '2020-01-01T00:00:00Z', source: 'manual' }, 'test');
  for (const [meter, unitCost] of [['llm.input_tokens', '1'], ['llm.output_tokens', '4']] as const) {
    await u.api.admin('POST', '/admin/cost-rates', { provider, meter, unitCost, per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
  }
  // 2,000 input tokens (1,500 from app u, 500 from app other) and 300 output tokens.
  await u.post([llmEvent(planned, { provider, at, inputTokens: 1500, outputTokens: 300 })]);
  await other.post([llmEvent(planned, { provider, at, inputTokens: 500, outputTokens: 0 })]);
  await u.post([llmEvent(unplanned, { provider, at, inputTokens: 1000, outputTokens: 0 })]);
});

async function readUsage(teamId: string, query = '', token?: string): Promise<{ status: number; body: UsageBody & { code?: string } }> {
  const res = await u.api.request('GET', `/v1/teams/${teamId}/usage${query}`, { token: token ?? (await u.token({ teamId, scopes: ['usage:read'] })) });
  return { status: res.status, body: (await res.json()) as UsageBody & { code?: string } };
}

async function margin(query: string): Promise<{ status: number; body: MarginBody }> {
  const res = await u.api.admin('GET', `/admin/reports/margin${query}`);
  return { status: res.status, body: (await res.json()) as MarginBody };
}

const day = new Date(at).toISOString().slice(0, 10);
const nextDay = new Date(at + 86_400_000).toISOString().slice(0, 10);

describe('reading usage', () => {
  it('shows the current period per meter with the charge of the team\'s plan so far', async () => {
    const { status, body } = await readUsage(planned);
    expect(status).toBe(200);
    expect(body.rows.map((r) => [r.meter, r.quantity, r.events, r.price, r.currency])).toEqual([
      ['llm.input_tokens', '2000', 2, '0.002000', 'USD'], // 1,000 included, 1,000 × 2/1M
      ['llm.output_tokens', '300', 2, '0.003000', 'USD'],
    ]);
  });

  it('splits by day and by app, the app keeping its share of the charge', async () => {
    const byDay = await readUsage(planned, `?granularity=day&from=${day}&to=${nextDay}`);
    expect(byDay.body.rows.every((r) => r.day === day)).toBe(true);
    const mine = await readUsage(planned, `?app=${u.appId}&meter=llm.input_tokens`);
    expect(mine.body.rows.map((r) => [r.quantity, r.price])).toEqual([['1500', '0.001500']]);
  });

  it('says so when the team has no plan: price 0', async () => {
    const { body } = await readUsage(unplanned);
    expect(body.rows.map((r) => [r.meter, r.price, r.note])).toEqual([
      ['llm.input_tokens', '0.000000', 'no_plan'],
      ['llm.output_tokens', '0.000000', 'no_plan'],
    ]);
  });

  it('needs the usage:read scope and a token for the team in the path', async () => {
    expect((await readUsage(planned, '', await u.token({ teamId: planned, scopes: ['usage:write'] }))).body.code).toBe('scope_missing');
    expect((await readUsage(planned, '', await u.token({ teamId: unplanned, scopes: ['usage:read'] }))).body.code).toBe('team_mismatch');
    const tooLong = await readUsage(planned, '?from=2020-01-01&to=2026-01-01');
    expect(tooLong.status).toBe(400);
  });
});

describe('the margin report', () => {
  it('shows price, exact cost and margin per team', async () => {
    const { status, body } = await margin(`?from=${day}&to=${nextDay}&groupBy=team&teamId=${planned}`);
    expect(status).toBe(200);
    // Price 0.002 + 0.003; cost 2,000 × 1/1M + 300 × 4/1M.
    expect(body.rows).toEqual([{ team: planned, events: 4, price: '0.005000', currency: 'USD', cost: '0.0032', margin: '0.0018', notes: [] }]);
    expect(body.totals).toEqual({ price: '0.005000', cost: '0.0032', margin: '0.0018' });
  });

  it('groups by team, app, meter, model and day with rows summing to the totals', async () => {
    const { body } = await margin(`?from=${day}&to=${nextDay}&groupBy=team,app,meter,model,day&teamId=${planned}`);
    expect(body.rows).toHaveLength(4); // input and output from each app (the other app's 0 output tokens are an event too)
    const sum = (k: 'price' | 'cost') => body.rows.reduce((s, r) => s.plus(r[k]), new Dec(0)).toFixed();
    expect([sum('price'), sum('cost')]).toEqual(['0.005', '0.0032']);
    expect(body.rows.find((r) => r.app === other.appId && r.meter === 'llm.input_tokens')).toMatchObject({ model: 'gpt-5', day, quantity: '500', price: '0.000500', cost: '0.0005' });
  });

  it('prices a team without a plan at 0 and says so', async () => {
    const { body } = await margin(`?from=${day}&to=${nextDay}&groupBy=team&teamId=${unplanned}`);
    expect(body.rows).toEqual([
      { team: unplanned, events: 2, price: '0.000000', currency: 'USD', cost: '0.001', margin: '-0.001', notes: [`no plan assigned to team ${unplanned}: price 0`] },
    ]);
  });

  it('refuses unknown grouping keys', async () => {
    expect((await margin(`?from=${day}&to=${nextDay}&groupBy=team,planet`)).status).toBe(400);
  });
});

describe('allocating a price', () => {
  it('splits exactly by weight, the remainder going to the largest fractions', () => {
    expect(allocate(100n, [new Dec(1), new Dec(1), new Dec(1)])).toEqual([34n, 33n, 33n]);
    expect(allocate(10n, [new Dec(3), new Dec(-1)])).toEqual([15n, -5n]);
    expect(allocate(7n, [new Dec(0), new Dec(0)])).toEqual([7n, 0n]);
    const parts = allocate(1_000_003n, [new Dec('0.1'), new Dec('0.7'), new Dec('0.2')]);
    expect(parts.reduce((a, b) => a + b, 0n)).toBe(1_000_003n);
  });
});
