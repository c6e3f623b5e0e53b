/** COGS: effective-dated cost rates, exact accrual per event, and rounding by difference into the ledger posting. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminSql, appSql } from '../helpers/context.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { Dec } from '../../src/shared/money.js';
import { validateBatch } from '../../src/usage/batch-validation.js';
import { buildCogsPostings, roundedDeltaMinor } from '../../src/usage/cogs-posting.js';
import { reconcileCogs } from '../../src/usage/recount.js';
import { ensurePeriods } from '../../src/usage/billing-periods.js';
import { LIMITS } from '../../src/shared/limits.js';
import { countEvents, type CostChange } from '../../src/usage/usage-store.js';
import { counters, createTeams, llmEvent, storageEvent, usageApp } from './fixtures.js';

const u = await usageApp({ teams: 0 });
// Cost rates are global: each test uses providers of its own.
const provider = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

async function publish(body: Record<string, unknown>) {
  const res = await u.api.admin('POST', '/admin/cost-rates', body);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('cost rates', () => {
  it('are published once per (provider, model, meter, effectiveFrom): a replay returns the rate, other values conflict', async () => {
    const p = provider('openai');
    const rate = { provider: p, model: 'gpt-5', meter: 'llm.input_tokens', unitCost: '1.25', per: '1000000', effectiveFrom: '2026-01-01T00:00:00Z' };
    const first = await publish(rate);
    expect(first).toMatchObject({ status: 201, body: { ratePerUnit: '0.00000125', currency: 'USD', publishedBy: 'admin' } });
    expect((await publish(rate)).status).toBe(200);
    expect(await publish({ ...rate, unitCost: '1.30' })).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } });
  });

  it('must be per a power of ten, for a known meter, and not negative', async () => {
    const { status, body } = await publish({ provider: provider('x'), meter: 'llm.tokens', unitCost: '-1', per: '3', effectiveFrom: '2026-01-01T00:00:00Z' });
    expect(status).toBe(400);
    expect((body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['meter', 'per', 'unitCost']);
  });

  it('list the rates in effect at a time: the latest effective one per provider, model and meter', async () => {
    const p = provider('anthropic');
    await publish({ provider: p, meter: 'llm.output_tokens', unitCost: '15', per: '1000000', effectiveFrom: '2026-01-01T00:00:00Z' });
    await publish({ provider: p, meter: 'llm.output_tokens', unitCost: '12', per: '1000000', effectiveFrom: '2026-06-01T00:00:00Z' });
    const at = (t: string) => u.api.admin('GET', `/admin/cost-rates?provider=${p}&at=${t}`).then((r) => r.json() as Promise<{ rates: Array<{ unitCost: string }> }>);
    expect((await at('2026-03-01T00:00:00Z')).rates.map((r) => r.unitCost)).toEqual(['15']);
    expect((await at('2026-07-01T00:00:00Z')).rates.map((r) => r.unitCost)).toEqual(['12']);
    const all = (await (await u.api.admin('GET', `/admin/cost-rates?provider=${p}`)).json()) as { rates: unknown[] };
    expect(all.rates).toHaveLength(2);
  });
});

describe('cost accrual', () => {
  it('costs each event exactly at the rate in effect at its time, a model rate beating the provider-wide one', async () => {
    const p = provider('llm');
    const now = Date.now();
    const switchAt = new Date(now - 30 * 60_000);
    await publish({ provider: p, meter: 'llm.input_tokens', unitCost: '1', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    await publish({ provider: p, meter: 'llm.input_tokens', unitCost: '3', per: '1000000', effectiveFrom: switchAt.toISOString() });
    await publish({ provider: p, model: 'special', meter: 'llm.input_tokens', unitCost: '2', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    const [team] = await createTeams(u.api, u.appId, 1);
    await u.post([
      llmEvent(team!, { provider: p, model: 'plain', inputTokens: 7, at: now - 60 * 60_000 }),
      llmEvent(team!, { provider: p, model: 'plain', inputTokens: 11, at: now - 60_000 }),
      llmEvent(team!, { provider: p, model: 'special', inputTokens: 13, at: now - 60_000 }),
    ]);
    const rows = await counters(team!, 'llm.input_tokens');
    expect(rows.map((r) => [r.dimensions.model, r.quantity, r.cost])).toEqual([
      ['plain', '18', '0.000040'], // 7 × 0.000001 + 11 × 0.000003
      ['special', '13', '0.000026'],
    ]);
  });

  it('costs a gauge as its period average at the rate in effect at the period start (per 1e9 bytes = GB-month)', async () => {
    const p = provider('s3');
    await publish({ provider: p, meter: 'storage.bytes', unitCost: '0.023', per: '1000000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    const [team] = await createTeams(u.api, u.appId, 1);
    await u.post([storageEvent(team!, 2_000_000_000, Date.now() - 60_000, { provider: p })]);
    const [row] = await counters(team!, 'storage.bytes');
    expect(Number(row!.quantity)).toBeGreaterThan(0);
    expect(new Dec(row!.cost).eq(new Dec(row!.quantity).times('0.000000000023'))).toBe(true);
  });
});

describe('rounding by difference', () => {
  it('posts round(new) − round(old) per counter, so the ledger holds the rounded exact total', async () => {
    const p = provider('tiny');
    await publish({ provider: p, meter: 'llm.input_tokens', unitCost: '0.4', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    const [team] = await createTeams(u.api, u.appId, 1);
    for (let i = 0; i < 9; i++) await u.post([llmEvent(team!, { provider: p, inputTokens: 1, outputTokens: 0 })]);
    const [row] = await counters(team!, 'llm.input_tokens');
    expect(row!.cost).toBe('0.0000036'); // 9 × 0.0000004 USD, exact
    // round half-even(3.6 µ$) = 4 µ$ in the ledger; rounding each event alone would have posted 0.
    expect(await reconcileCogs(appSql(), [p])).toEqual([{ provider: p, countersMinor: 4n, cogsMinor: 4n, payableMinor: 4n, ok: true }]);
  });

  it('reports each batch\'s rounded differences for the ledger', async () => {
    const p = provider('tiny');
    await publish({ provider: p, meter: 'llm.input_tokens', unitCost: '0.4', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    const [team] = await createTeams(u.api, u.appId, 1);
    const posted: bigint[] = [];
    for (let i = 0; i < 4; i++) {
      const events = validateBatch({ events: [llmEvent(team!, { provider: p, inputTokens: 1, outputTokens: 0 })] });
      await ensurePeriods(appSql(), [{ teamId: team!, at: new Date(events[0]!.timestampMs) }]);
      const counted = await appSql().begin((tx) => countEvents(tx, u.appId, events, new Date()));
      posted.push(counted.costs.reduce((n, c) => n + roundedDeltaMinor(c.costBefore, c.costAfter), 0n));
    }
    // Cumulative 0.4, 0.8, 1.2, 1.6 µ$ round to 0, 1, 1, 2: the differences post 0, 1, 0, 1.
    expect(posted).toEqual([0n, 1n, 0n, 1n]);
  });

  it('nets changes per provider on one shard per batch, reverses a decrease, and posts nothing for zero', () => {
    const change = (teamId: string, before: string, after: string, provider = 'openai'): CostChange => ({
      counterId: 1n, teamId, periodId: 1n, meter: 'llm.input_tokens', provider, model: null, costBefore: before, costAfter: after,
    });
    const ctx = { appId: 'app', postingSeq: 7n, effectiveAt: new Date(0) };
    expect(buildCogsPostings([change('team_a', '0', '0.0000004')], ctx)).toEqual([]);
    expect(roundedDeltaMinor('0.0000005', '0.0000015')).toBe(2n); // half-even: 0 → 2
    const [posting, ...more] = buildCogsPostings([change('team_a', '0', '1.5'), change('team_a', '1', '0.25'), change('team_b', '0', '2', 'anthropic')], ctx);
    expect(more).toEqual([]);
    expect(posting).toMatchObject({ scope: 'usage-cogs', idempotencyKey: 'cogs:7', code: 'cogs_accrual' });
    expect(posting!.legs.map((l) => [l.account.code, l.side, l.amountMinor, l.shardKey])).toEqual([
      ['cogs:anthropic:USD', 'debit', 2_000_000n, 'cogs:7'],
      ['payable:anthropic:USD', 'credit', 2_000_000n, 'cogs:7'],
      ['cogs:openai:USD', 'debit', 750_000n, 'cogs:7'],
      ['payable:openai:USD', 'credit', 750_000n, 'cogs:7'],
    ]);
    const [decrease] = buildCogsPostings([change('team_a', '2', '1')], ctx);
    expect(decrease!.legs.map((l) => [l.account.code, l.side])).toEqual([['payable:openai:USD', 'debit'], ['cogs:openai:USD', 'credit']]);
  });

  it('leaves a ledger that the verifier finds balanced and consistent', async () => {
    const report = await verifyLedger(adminSql());
    expect(report.violations).toEqual([]);
    expect(report.counts.transactions).toBeGreaterThan(0);
  });

  it('splits a posting that would exceed LIMITS.ledgerLegsPerTransactionMax', () => {
    const changes = Array.from({ length: 400 }, (_, i): CostChange => ({
      counterId: BigInt(i), teamId: `team_${i}`, periodId: 1n, meter: 'llm.input_tokens', provider: `p${i % 300}`, model: null, costBefore: '0', costAfter: '1',
    }));
    const requests = buildCogsPostings(changes, { appId: 'app', postingSeq: 9n, effectiveAt: new Date(0) });
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.every((r) => r.legs.length <= LIMITS.ledgerLegsPerTransactionMax)).toBe(true);
    expect(requests.map((r) => r.idempotencyKey).slice(0, 2)).toEqual(['cogs:9', 'cogs:9:1']);
    const total = requests.flatMap((r) => r.legs).filter((l) => l.side === 'debit').reduce((n, l) => n + l.amountMinor, 0n);
    expect(total).toBe(400_000_000n);
  });
});
