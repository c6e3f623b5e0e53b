/**
 * The shape of a plan version as operators write it (catalog file, publish API): zod schemas that
 * name every bad field, including what only the catalog knows (which meters and dimensions exist,
 * which features a plan declares). Decimals come out normalised, so equal content hashes equal.
 */
import { z } from 'zod';
import { Dec, LEDGER_SCALE } from '../shared/money.js';
import { LIMITS } from '../shared/limits.js';
import { isMeterCode, METERS, periodQuantityMax, unitAmountMaxUsd } from '../pricing/meters.js';
import type { PriceModel } from '../pricing/types.js';
import {
  AddOnPriceSchema,
  CodeSchema,
  DecimalSchema,
  DimensionFilterSchema,
  PositiveDecimalSchema,
  SeatPriceSchema,
  UsagePriceSchema,
  usagePriceListSchema,
} from '../pricing/schema.js';

export const PlanCodeSchema = z.string().regex(/^[a-z][a-z0-9_-]{1,47}$/, 'must be 2–48 characters: a lowercase letter, then lowercase letters, digits, _ or -');

export const CURRENCIES = Object.keys(LEDGER_SCALE) as [string, ...string[]];
export const INTERVALS = ['month', 'year'] as const;
export const LIMIT_WINDOWS = ['billing_period', 'month', 'day', 'hour', 'none'] as const;
/** Usage alerts at 80 %, 100 % and 120 % of a limit unless a limit says otherwise (seeds/003). */
export const DEFAULT_ALERT_THRESHOLDS_PERCENT = ['80', '100', '120'];

const knownMeters = Object.keys(METERS).join(', ');

/** A meter code that src/pricing/meters.ts defines, and filter dimensions that meter has. */
function checkMeterAndFilter(value: { meter?: string | undefined; filter?: Record<string, string> | undefined }, ctx: z.RefinementCtx): void {
  if (value.meter === undefined) return;
  if (!isMeterCode(value.meter)) {
    ctx.addIssue({ code: 'custom', path: ['meter'], message: `unknown meter "${value.meter}"; known meters: ${knownMeters}` });
    return;
  }
  const dimensions: readonly string[] = METERS[value.meter].dimensions;
  for (const name of Object.keys(value.filter ?? {})) {
    if (!dimensions.includes(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['filter', name],
        message: `meter ${value.meter} has no dimension "${name}"; its dimensions: ${dimensions.join(', ') || '(none)'}`,
      });
    }
  }
}

/**
 * The most a price model can charge for `quantity` units: its highest price per unit times the
 * quantity, plus its fixed parts (flat fees, a started package). An upper bound, not the rating.
 */
export function priceModelAmountMax(model: PriceModel, quantity: Dec): Dec {
  const perUnit = (price: string, per: string | undefined) => new Dec(price).div(per ?? '1');
  switch (model.model) {
    case 'per_unit':
      return perUnit(model.unitPrice, model.per).times(quantity);
    case 'package':
      return new Dec(model.packagePrice).div(model.packageSize).times(quantity).plus(model.packagePrice);
    case 'graduated':
    case 'volume': {
      const unit = Dec.max(...model.tiers.map((t) => perUnit(t.unitPrice, model.per)));
      const fees = model.tiers.map((t) => new Dec(t.flatFee ?? 0));
      return unit.times(quantity).plus(model.model === 'graduated' ? Dec.sum(...fees) : Dec.max(...fees));
    }
    case 'flat':
      return new Dec(model.amount);
    case 'unlimited':
      return model.overageUnitPrice === undefined ? new Dec(0) : perUnit(model.overageUnitPrice, model.per).times(quantity);
  }
}

/**
 * A usage price may charge at most LIMITS.usageCounterAmountMaxUsd for the largest period quantity
 * of its meter, so no invoice line, invoice total or ledger amount derived from it can overflow
 * (the arithmetic: src/shared/limits.ts).
 */
function checkAmountBound(value: { meter: string; price: PriceModel }, ctx: z.RefinementCtx): void {
  if (!isMeterCode(value.meter)) return;
  const meter = METERS[value.meter];
  if (priceModelAmountMax(value.price, periodQuantityMax(meter)).gt(LIMITS.usageCounterAmountMaxUsd)) {
    ctx.addIssue({
      code: 'custom',
      path: ['price'],
      message: `charges more than ${LIMITS.usageCounterAmountMaxUsd} (LIMITS.usageCounterAmountMaxUsd) for ${periodQuantityMax(meter).toFixed()} units of ${meter.code}, the most a period can count: at most ${unitAmountMaxUsd(meter).toSignificantDigits(6).toFixed()} per unit`,
    });
  }
}

export const CatalogUsagePriceSchema = UsagePriceSchema.superRefine((value, ctx) => {
  checkMeterAndFilter(value, ctx);
  checkAmountBound(value, ctx);
});

export const LimitSchema = z
  .object({
    /** The meter the limit counts; absent for things the app counts itself (projects, seats…). */
    meter: z.string().min(1).max(100).optional(),
    filter: DimensionFilterSchema.optional(),
    /** null = unlimited. */
    value: DecimalSchema.nullable(),
    /** Over which window usage is counted against the value; `none` for gauges such as seats. */
    window: z.enum(LIMIT_WINDOWS),
    /** hard: refuse beyond the value; soft: allow, alert, and charge any overage. */
    enforcement: z.enum(['hard', 'soft']),
    alertThresholdsPercent: z.array(PositiveDecimalSchema).max(10).default(DEFAULT_ALERT_THRESHOLDS_PERCENT),
  })
  .strict()
  .superRefine((limit, ctx) => {
    checkMeterAndFilter(limit, ctx);
    if (limit.filter !== undefined && limit.meter === undefined) ctx.addIssue({ code: 'custom', path: ['filter'], message: 'a filter needs a meter' });
    limit.alertThresholdsPercent.forEach((t, i) => {
      const previous = limit.alertThresholdsPercent[i - 1];
      if (previous !== undefined && !new Dec(t).gt(previous)) {
        ctx.addIssue({ code: 'custom', path: ['alertThresholdsPercent', i], message: 'thresholds must be in increasing order' });
      }
    });
  });

export const AddOnSchema = AddOnPriceSchema.extend({
  name: z.string().min(1).max(200),
  /** Boolean features the add-on turns on; each must be declared in the plan's features. */
  features: z.array(CodeSchema).max(LIMITS.planFeaturesMax).default([]),
}).strict();

function boundedRecord<V extends z.ZodType>(value: V, entriesMax: number) {
  return z.record(CodeSchema, value).refine((r) => Object.keys(r).length <= entriesMax, `at most ${entriesMax} entries`);
}

/** Everything a version fixes: what a subscription pinned to it is charged and entitled to. */
const versionShape = {
  currency: z.enum(CURRENCIES),
  interval: z.enum(INTERVALS),
  baseFee: DecimalSchema,
  seats: SeatPriceSchema.nullable().default(null),
  addOns: boundedRecord(AddOnSchema, LIMITS.planAddOnsMax).default({}),
  features: boundedRecord(z.boolean(), LIMITS.planFeaturesMax).default({}),
  limits: boundedRecord(LimitSchema, LIMITS.planLimitsMax).default({}),
  usagePrices: usagePriceListSchema(CatalogUsagePriceSchema).default([]),
};

const planShape = {
  code: PlanCodeSchema,
  name: z.string().min(1).max(200),
  ...versionShape,
};

type PlanShape = z.output<z.ZodObject<typeof planShape>>;

/** Checks across sections, run once each section is well-formed. */
function checkPlan(plan: PlanShape, ctx: z.RefinementCtx): void {
  for (const [code, addOn] of Object.entries(plan.addOns)) {
    addOn.features.forEach((feature, i) => {
      if (!Object.hasOwn(plan.features, feature)) {
        ctx.addIssue({ code: 'custom', path: ['addOns', code, 'features', i], message: `feature "${feature}" is not declared in the plan's features` });
      }
    });
  }
}

/** One plan as a catalog file lists it and as `POST /admin/plans` takes it. */
export const PlanInputSchema = z.object(planShape).strict().superRefine(checkPlan);

export const PublishPlanSchema = z
  .object({
    ...planShape,
    /** Optimistic concurrency: publish only if the latest version is this one (0 = none yet). */
    expectedLatestVersion: z.number().int().min(0).optional(),
  })
  .strict()
  .superRefine(checkPlan);

export const CatalogFileSchema = z
  .object({ plans: z.array(PlanInputSchema).max(LIMITS.catalogFilePlansMax) })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.plans.forEach((plan, i) => {
      const first = seen.get(plan.code);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['plans', i, 'code'], message: `plan ${plan.code} is already listed at plans.${first}` });
      else seen.set(plan.code, i);
    });
  });

export type PlanInput = z.output<typeof PlanInputSchema>;
export type PublishPlanInput = z.output<typeof PublishPlanSchema>;
export type CatalogFile = z.output<typeof CatalogFileSchema>;
export type PlanLimit = z.output<typeof LimitSchema>;
export type AddOn = z.output<typeof AddOnSchema>;

/** The content of a version: everything in a plan input but its code and display name. */
export type PlanVersionContent = Omit<PlanInput, 'code' | 'name'>;
