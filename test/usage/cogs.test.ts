/** COGS: effective-dated cost rates, exact accrual per event, and rounding by difference into the ledger posting. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminSql, appSql } from '../helpers/context.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { Dec } from '../../src/shared/money.js';
import { postCostRows, type CostRow } from '../../src/usage/cogs-ledger.js';
import { foldCogs } from '../../src/usage/cogs-fold.js';
import { reconcileCogs } from '../../src/usage/recount.js';
import { LIMITS } from '../../src/shared/limits.js';
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
    expect(await reconcileCogs(appSql(), [p])).toMatchObject([{ provider: p, countersMinor: 4n, ok: true }]);
    await foldCogs(appSql(), 'cogs-test');
    expect(await reconcileCogs(appSql(), [p])).toEqual([{ provider: p, countersMinor: 4n, cogsMinor: 4n, payableMinor: 4n, queuedMinor: 0n, ok: true }]);
  });

  it('queues each batch\'s rounded difference, nothing for a batch whose difference is zero, and a fold posts what is queued once', async () => {
    const p = provider('tiny');
    await publish({ provider: p, meter: 'llm.input_tokens', unitCost: '0.4', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    const [team] = await createTeams(u.api, u.appId, 1);
    const queued = () => adminSql()<{ minor: bigint }[]>`select minor from usage_cogs_queue where provider = ${p}`;
    for (let i = 0; i < 4; i++) {
      await u.post([llmEvent(team!, { provider: p, inputTokens: 1, outputTokens: 0 })]);
      if (i === 1) expect((await queued()).map((r) => r.minor)).toEqual([1n]);
      await foldCogs(appSql(), 'cogs-test');
      expect(await queued()).toEqual([]);
    }
    expect((await foldCogs(appSql(), 'cogs-test')).postingSeq).toBeNull();
    // Cumulative 0.4, 0.8, 1.2, 1.6 µ$ round to 0, 1, 1, 2: the differences are 0, 1, 0, 1.
    const rows = await adminSql()<{ amount_minor: bigint }[]>`
      select e.amount_minor from ledger_entries e join ledger_accounts a on a.id = e.account_id
      where a.code = ${`cogs:${p}:USD`} order by e.id`;
    expect(rows.map((r) => r.amount_minor)).toEqual([1n, 1n]);
  });

  it('folds the queue on demand through the operator route, leaving the ledger equal to the counters', async () => {
    const p = provider('fold');
    await publish({ provider: p, meter: 'llm.input_tokens', unitCost: '2', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    const [team] = await createTeams(u.api, u.appId, 1);
    await u.post([llmEvent(team!, { provider: p, inputTokens: 1500, outputTokens: 0 })]);
    expect(await reconcileCogs(appSql(), [p])).toMatchObject([{ countersMinor: 3000n, queuedMinor: 3000n, ok: true }]); // queued, not yet in the ledger
    const res = await u.api.admin('POST', '/admin/usage/cogs-fold', undefined);
    expect(res.status).toBe(200);
    expect(await reconcileCogs(appSql(), [p])).toEqual([{ provider: p, countersMinor: 3000n, cogsMinor: 3000n, payableMinor: 3000n, queuedMinor: 0n, ok: true }]);
  });

  const costRow = (counter: number, provider: string, c0: string, c1: string): CostRow => ({
    counter_id: BigInt(counter), team: 'team_a', period_id: 1n, meter: 'llm.input_tokens', d: { provider }, c0, c1,
  });
  const postRows = (rows: CostRow[]) => appSql().begin((tx) => postCostRows(tx, rows, 'cogs-test', new Date(0)));
  const legsOf = (key: string) => adminSql()<{ code: string; side: string; amount_minor: bigint; shard: number }[]>`
    select a.code, e.side, e.amount_minor, e.shard from ledger_entries e
    join ledger_transactions t on t.id = e.transaction_id join ledger_accounts a on a.id = e.account_id
    where t.scope = 'usage-cogs' and t.idempotency_key = ${key} order by e.leg_index`;

  it('nets changes per provider on one shard per posting, reverses a decrease, and rounds half-even', async () => {
    const [a, b] = [provider('anth'), provider('open')];
    const seq = await postRows([costRow(1, b, '0', '1.5'), costRow(2, b, '1', '0.25'), costRow(3, a, '0', '2')]);
    const shard = Number(seq! % 128n);
    expect((await legsOf(`cogs:${seq}`)).map((l) => [l.code, l.side, l.amount_minor, l.shard])).toEqual([
      [`cogs:${a}:USD`, 'debit', 2_000_000n, shard],
      [`payable:${a}:USD`, 'credit', 2_000_000n, shard],
      [`cogs:${b}:USD`, 'debit', 750_000n, shard],
      [`payable:${b}:USD`, 'credit', 750_000n, shard],
    ]);
    const decrease = await postRows([costRow(1, b, '2', '1')]);
    expect((await legsOf(`cogs:${decrease}`)).map((l) => [l.code, l.side])).toEqual([[`payable:${b}:USD`, 'debit'], [`cogs:${b}:USD`, 'credit']]);
    expect(await postRows([costRow(1, b, '0', '0.0000004')])).toBeNull();
    const halfEven = await postRows([costRow(1, b, '0.0000005', '0.0000015')]); // 0 → 2 micro-dollars
    expect((await legsOf(`cogs:${halfEven}`)).map((l) => l.amount_minor)).toEqual([2n, 2n]);
  });

  it('splits a posting that would exceed LIMITS.ledgerLegsPerTransactionMax', async () => {
    const prefix = provider('many');
    const rows = Array.from({ length: 400 }, (_, i) => costRow(i, `${prefix}-${i % 300}`, '0', '1'));
    const seq = await postRows(rows);
    const parts = [await legsOf(`cogs:${seq}`), await legsOf(`cogs:${seq}:1`), await legsOf(`cogs:${seq}:2`)];
    expect(parts.map((legs) => legs.length)).toEqual([LIMITS.ledgerLegsPerTransactionMax, 600 - LIMITS.ledgerLegsPerTransactionMax, 0]);
    const total = parts.flat().filter((l) => l.side === 'debit').reduce((n, l) => n + l.amount_minor, 0n);
    expect(total).toBe(400_000_000n);
  });

  it('leaves a ledger that the verifier finds balanced and consistent', async () => {
    const report = await verifyLedger(adminSql());
    expect(report.violations).toEqual([]);
    expect(report.counts.transactions).toBeGreaterThan(0);
  });
});
