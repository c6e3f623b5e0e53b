/**
 * Cost rates: what a provider charges us per unit of a meter (COGS), effective-dated and
 * append-only. A new rate supersedes from its effective time; nothing is ever edited. A rate for a
 * model beats the provider-wide rate (model null); among equals the latest effectiveFrom at or before
 * the usage applies. Ingest applies the rate in effect at the event's time (sum and count meters) or
 * at the period start (the others); publishing a rate does not re-cost usage already counted.
 */
import type { Queryable, Sql } from '../shared/db.js';
import { requestHash } from '../shared/crypto.js';
import { AppError, idempotencyConflict, validationError } from '../shared/errors.js';
import { Dec } from '../shared/money.js';
import { LIMITS } from '../shared/limits.js';
import { isMeterCode, METERS, periodQuantityMax, unitAmountMaxUsd } from '../pricing/meters.js';

export interface CostRateInput {
  provider: string;
  /** null = every model of the provider. */
  model: string | null;
  meter: string;
  /** Decimal string: USD per `per` units. */
  unitCost: string;
  /** Decimal string, a power of ten: 1, 1000, 1000000 (tokens), 1000000000 (bytes = GB). */
  per: string;
  effectiveFrom: Date;
  note?: string | undefined;
}

export interface CostRate {
  costRateId: string;
  provider: string;
  model: string | null;
  meter: string;
  currency: 'USD';
  unitCost: string;
  per: string;
  /** unitCost / per, exact. */
  ratePerUnit: string;
  effectiveFrom: string;
  publishedAt: string;
  publishedBy: string;
  note: string | null;
}

interface Row {
  id: bigint;
  provider: string;
  model: string | null;
  meter: string;
  unit_cost: string;
  per: string;
  rate_per_unit: string;
  effective_from: Date;
  published_at: Date;
  published_by: string;
  note: string | null;
  request_hash: Buffer;
}

const toRate = (r: Row): CostRate => ({
  costRateId: r.id.toString(),
  provider: r.provider,
  model: r.model,
  meter: r.meter,
  currency: 'USD',
  unitCost: new Dec(r.unit_cost).toFixed(),
  per: new Dec(r.per).toFixed(),
  ratePerUnit: new Dec(r.rate_per_unit).toFixed(),
  effectiveFrom: r.effective_from.toISOString(),
  publishedAt: r.published_at.toISOString(),
  publishedBy: r.published_by,
  note: r.note,
});

const POWER_OF_TEN = /^10*$/;

/**
 * Publishes a rate. Idempotent by (provider, model, meter, effectiveFrom): the same rate again is a
 * replay; another rate at that key is an `idempotency_conflict` (publish a later effectiveFrom to
 * supersede it instead).
 */
export async function publishCostRate(sql: Sql, input: CostRateInput, actor: string): Promise<{ rate: CostRate; replayed: boolean }> {
  if (!isMeterCode(input.meter)) throw validationError([{ path: 'meter', message: `Unknown meter ${input.meter}` }]);
  if (!POWER_OF_TEN.test(input.per)) throw validationError([{ path: 'per', message: 'must be a power of ten (1, 1000, 1000000, …) so the rate per unit is exact' }]);
  const unitCost = new Dec(input.unitCost);
  const ratePerUnit = unitCost.div(input.per);
  const meter = METERS[input.meter];
  if (ratePerUnit.gt(unitAmountMaxUsd(meter))) {
    // The arithmetic behind this bound: src/shared/limits.ts.
    throw validationError([{
      path: 'unitCost',
      message: `costs more than ${LIMITS.usageCounterAmountMaxUsd} USD (LIMITS.usageCounterAmountMaxUsd) for ${periodQuantityMax(meter).toFixed()} units of ${meter.code}, the most a period can count: at most ${unitAmountMaxUsd(meter).times(input.per).toSignificantDigits(6).toFixed()} per ${input.per}`,
    }]);
  }
  const normalized = { ...input, unitCost: unitCost.toFixed(), effectiveFrom: input.effectiveFrom.toISOString(), note: input.note ?? null };
  const hash = requestHash(normalized);
  const inserted = await sql<Row[]>`
    insert into cost_rates (provider, model, meter, unit_cost, per, rate_per_unit, effective_from, published_by, note, request_hash)
    values (${input.provider}, ${input.model}, ${input.meter}, ${unitCost.toFixed()}, ${input.per}, ${ratePerUnit.toFixed()},
            ${input.effectiveFrom}, ${actor}, ${input.note ?? null}, ${hash})
    on conflict on constraint cost_rates_once do nothing
    returning *`;
  if (inserted[0]) return { rate: toRate(inserted[0]), replayed: false };
  const [existing] = await sql<Row[]>`
    select * from cost_rates
    where provider = ${input.provider} and model is not distinct from ${input.model} and meter = ${input.meter}
      and effective_from = ${input.effectiveFrom}`;
  if (!existing) throw new AppError('conflict', 'The rate was published concurrently; retry');
  if (!existing.request_hash.equals(hash)) throw idempotencyConflict(`${input.provider}/${input.model ?? '*'}/${input.meter}@${normalized.effectiveFrom}`);
  return { rate: toRate(existing), replayed: true };
}

export interface CostRateFilter {
  provider?: string | undefined;
  meter?: string | undefined;
  /** Only the rates in effect at this time (one per provider/model/meter). */
  at?: Date | undefined;
}

export async function listCostRates(sql: Queryable, filter: CostRateFilter = {}): Promise<CostRate[]> {
  const rows = await sql<Row[]>`
    select * from (
      select r.*, row_number() over (partition by r.provider, r.model, r.meter order by r.effective_from desc) as rank
      from cost_rates r
      where (${filter.provider ?? null}::text is null or r.provider = ${filter.provider ?? null})
        and (${filter.meter ?? null}::text is null or r.meter = ${filter.meter ?? null})
        and (${filter.at ?? null}::timestamptz is null or r.effective_from <= ${filter.at ?? null})
    ) x
    where ${filter.at ?? null}::timestamptz is null or x.rank = 1
    order by provider, meter, model nulls first, effective_from`;
  return rows.map(toRate);
}
