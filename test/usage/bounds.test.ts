/**
 * Overflow bounds (issue #13): every quantity and every amount derived from it is bounded by named
 * limits (src/shared/limits.ts), so the largest accepted input can never overflow a counter, a cost,
 * a price, an invoice total or the ledger's bigint micro-dollars. What does not fit is a 400 naming
 * the field, or, for a counter at its ceiling, a per-event `counter_limit`; never a 500.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adminSql } from '../helpers/context.js';
import { LIMITS } from '../../src/shared/limits.js';
import { Dec, toMinor } from '../../src/shared/money.js';
import { CatalogUsagePriceSchema, priceModelAmountMax } from '../../src/catalog/schema.js';
import { rateUsagePrice } from '../../src/pricing/rate.js';
import type { PriceModel } from '../../src/pricing/types.js';
import { METERS, periodQuantityMax, unitAmountMaxUsd, type MeterDefinition } from '../../src/pricing/meters.js';
import { priceModel } from '../pricing/arbitraries.js';
import { createTeams, llmEvent, usageApp } from './fixtures.js';

const BIGINT_MAX = 2n ** 63n - 1n;
const USD_SCALE = 6;
const meters: MeterDefinition[] = Object.values(METERS);
const meter = fc.constantFrom(...meters);
/** A quantity from 0 to the most a period can count for `m`, biased to the top. */
const quantityFor = (m: MeterDefinition) =>
  fc.oneof(fc.bigInt({ min: 0n, max: BigInt(periodQuantityMax(m).toFixed()) }), fc.constant(BigInt(periodQuantityMax(m).toFixed()))).map((n) => new Dec(n.toString()));

describe('the arithmetic of the bounds', () => {
  it('leaves every invoice of LIMITS.planUsagePricesMax lines at the line bound inside a bigint of micro-dollars, with headroom', () => {
    const lines = toMinor(new Dec(LIMITS.usageCounterAmountMaxUsd).times(LIMITS.planUsagePricesMax), USD_SCALE);
    expect(lines * 4n).toBeLessThan(BIGINT_MAX);
    // One event's quantity is exact in JSON, and no larger than any additive meter's period quantity.
    expect(LIMITS.usageEventQuantityMax).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
  });

  it('keeps the cost of any counter at a cost rate the admin route accepts within the line bound, in micro-dollars', () => {
    fc.assert(
      fc.property(meter, fc.double({ min: 0, max: 1, noNaN: true }), (m, share) =>
        fc.assert(
          fc.property(quantityFor(m), (q) => {
            const cost = unitAmountMaxUsd(m).times(share).times(q);
            const minor = toMinor(cost, USD_SCALE);
            return cost.lte(LIMITS.usageCounterAmountMaxUsd) && minor <= BIGINT_MAX;
          }),
          { numRuns: 20 },
        ),
      ),
      { numRuns: 30 },
    );
  });

  it('rates any quantity a period can count, at any usage price the catalog accepts, within the line bound', () => {
    fc.assert(
      fc.property(meter, priceModel, fc.double({ min: 0, max: 2, noNaN: true }), (m, model, scale) => {
        // Scale the generated model towards the bound, so both sides of it are tried.
        const atBound = unitAmountMaxUsd(m).times(scale);
        const scaled = scaleModel(model, atBound);
        const parsed = CatalogUsagePriceSchema.safeParse({ key: 'k', displayName: 'K', meter: m.code, price: scaled });
        const max = periodQuantityMax(m);
        if (!parsed.success) {
          return priceModelAmountMax(scaled, max).gt(LIMITS.usageCounterAmountMaxUsd) || parsed.error.issues.some((i) => i.path[0] !== 'price');
        }
        return fc.assert(
          fc.property(quantityFor(m), (q) => {
            const amount = rateUsagePrice(parsed.data, q).amount;
            return amount.lte(priceModelAmountMax(parsed.data.price, max)) && amount.lte(LIMITS.usageCounterAmountMaxUsd) && toMinor(amount, USD_SCALE) <= BIGINT_MAX;
          }),
          { numRuns: 10 },
        ) === undefined;
      }),
      { numRuns: 200 },
    );
  });
});

/** The model with its per-unit prices replaced by `unit` per unit (at most 12 decimals, as the catalog takes them). */
function scaleModel(model: PriceModel, unit: Dec): PriceModel {
  const price = (per: string | undefined) => unit.times(per ?? '1').toDecimalPlaces(12, Dec.ROUND_DOWN).toFixed();
  switch (model.model) {
    case 'per_unit':
      return { ...model, unitPrice: price(model.per) };
    case 'graduated':
    case 'volume':
      return { ...model, tiers: model.tiers.map((t) => ({ ...t, unitPrice: price(model.per) })) };
    case 'unlimited':
      return model.overageUnitPrice === undefined ? model : { ...model, overageUnitPrice: price(model.per) };
    default:
      return model;
  }
}

describe('bounds at the edges of the service', () => {
  it('refuse an event quantity above LIMITS.usageEventQuantityMax with a 400 naming the field, and write nothing (the overflow repro of #13)', async () => {
    const u = await usageApp({ teams: 1 });
    const p = `bounds-${randomBytes(4).toString('hex')}`;
    expect((await u.api.admin('POST', '/admin/cost-rates', { provider: p, meter: 'llm.output_tokens', unitCost: '75', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' })).status).toBe(201);
    const events = Array.from({ length: 20 }, () => llmEvent(u.teamIds[0]!, { provider: p, inputTokens: 0, outputTokens: Number.MAX_SAFE_INTEGER }));
    const { status, body } = await u.post(events);
    expect(status).toBe(400);
    expect(body.errors!.map((e) => e.path)).toEqual(events.map((_, i) => `events.${i}.payload.outputTokens`));
    expect(body.errors![0]!.message).toContain('LIMITS.usageEventQuantityMax');
    const [n] = await adminSql()<{ n: number }[]>`select count(*)::int as n from usage_events where team_id = ${u.teamIds[0]!}`;
    expect(n!.n).toBe(0);
  });

  it('rejects, per event, what would take a counter stripe past its ceiling, counts the rest, and keeps later batches working', async () => {
    const u = await usageApp({ teams: 0 });
    const [team] = await createTeams(u.api, u.appId, 1);
    const ceiling = METERS['llm.output_tokens'].stripeQuantityMax;
    const big = ceiling * 0.4;
    // 0.4 + 0.4 fit; a third 0.4 would pass the ceiling; a small one after it still fits.
    const events = [big, big, big, 1000].map((outputTokens) => llmEvent(team!, { inputTokens: 1, outputTokens }));
    const { status, body } = await u.post(events);
    expect(status).toBe(200);
    expect(body.results.map((r) => [r.status, r.reason ?? null])).toEqual([['accepted', null], ['accepted', null], ['rejected', 'counter_limit'], ['accepted', null]]);
    const rows = await adminSql()<{ meter: string; quantity: string }[]>`
      select meter, sum(quantity)::text as quantity from usage_counters where team_id = ${team!} group by meter order by meter`;
    expect(rows).toEqual([
      { meter: 'llm.input_tokens', quantity: '3' },
      { meter: 'llm.output_tokens', quantity: String(2 * big + 1000) },
    ]);
    // Not remembered: the same event sent again is judged again (and still does not fit).
    const again = await u.post([events[2]!, llmEvent(team!, { inputTokens: 5, outputTokens: 5 })]);
    expect(again.body.results.map((r) => r.status)).toEqual(['rejected', 'accepted']);
  });

  it('refuse a cost rate or a catalog price that could charge more than LIMITS.usageCounterAmountMaxUsd in one period, naming the field', async () => {
    const u = await usageApp({ teams: 0 });
    const tokens = METERS['llm.output_tokens'];
    const tooHigh = unitAmountMaxUsd(tokens).times(1_000_000).times(2).toFixed();
    const rate = await u.api.admin('POST', '/admin/cost-rates', { provider: `bounds-${randomBytes(4).toString('hex')}`, meter: tokens.code, unitCost: tooHigh, per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' });
    expect(rate.status).toBe(400);
    expect(((await rate.json()) as { errors: Array<{ path: string; message: string }> }).errors).toEqual([expect.objectContaining({ path: 'unitCost', message: expect.stringContaining('LIMITS.usageCounterAmountMaxUsd') })]);
    const price = CatalogUsagePriceSchema.safeParse({ key: 'out', displayName: 'Out', meter: tokens.code, price: { model: 'per_unit', unitPrice: tooHigh, per: '1000000' } });
    expect(price.success).toBe(false);
    expect(price.error!.issues.map((i) => i.path.join('.'))).toEqual(['price']);
  });
});
