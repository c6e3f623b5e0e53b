/**
 * zod schemas of the price vocabulary (src/pricing/types.ts), shared by the catalog, its API and
 * (later) rate cards. Every structural rule a price must follow to be rated is checked here, with
 * the path of each bad field; decimals are normalised ("0.10" → "0.1") so equal prices compare equal.
 */
import { z } from 'zod';
import { Dec } from '../shared/money.js';
import { LIMITS } from '../shared/limits.js';
import { ambiguousFilterIssues } from './dimensions.js';
import type { AddOnPrice, PriceModel, SeatPrice, Tier, UsagePrice } from './types.js';

const normalise = (s: string) => new Dec(s).toFixed();
/**
 * A malformed number stops the checks of the objects around it (tier order, ambiguity…), which
 * parse decimals: they would only repeat the error. Every other field is still reported.
 */
const abort = true;

/** A non-negative decimal string: at most 18 integer digits and 12 decimals, no exponent. */
export const DecimalSchema = z
  .string({ error: 'must be a decimal string, e.g. "0.01" (quoted, so it stays exact)' })
  .regex(/^(0|[1-9]\d{0,17})(\.\d{1,12})?$/, { error: 'must be a non-negative decimal with at most 18 integer digits and 12 decimals, e.g. "0.01"', abort })
  .transform(normalise);

export const PositiveDecimalSchema = DecimalSchema.refine((s) => new Dec(s).gt(0), 'must be greater than 0');

/** A whole, non-negative number as a decimal string, e.g. "25". */
export const WholeNumberSchema = z
  .string({ error: 'must be a whole number as a string, e.g. "25"' })
  .regex(/^(0|[1-9]\d{0,17})$/, { error: 'must be a whole number ≥ 0, e.g. "25"', abort });

/** `per` of a price: a power of ten, so "$0.15 per 1M tokens" is exact and dividing by it never rounds. */
export const PerSchema = z
  .string({ error: 'must be a power of ten as a string, e.g. "1000000"' })
  .regex(/^10{0,12}$/, { error: 'must be a power of ten from "1" to "1000000000000"', abort });

/** Codes (price keys, add-ons, limits): lowercase, stable, safe in ids and URLs. */
export const CodeSchema = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be 1–64 characters: a lowercase letter, then lowercase letters, digits, _ . or -');

export const DimensionFilterSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a dimension name'),
  z.string().min(1, 'must not be empty').max(200),
);

const TierSchema = z
  .object({ upTo: PositiveDecimalSchema.nullable(), unitPrice: DecimalSchema, flatFee: DecimalSchema.optional() })
  .strict() satisfies z.ZodType<Tier>;

/** Tiers in ascending order of upTo, non-overlapping, the last one (and only it) unbounded. */
const TiersSchema = z
  .array(TierSchema)
  .min(1, 'needs at least one tier')
  .max(LIMITS.priceTiersMax)
  .superRefine((tiers, ctx) => {
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (tier.upTo === null && !last) ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: 'only the last tier may be unbounded (upTo: null)' });
      if (tier.upTo !== null && last) ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: 'the last tier must be unbounded (upTo: null), so every quantity has a price' });
      const previous = tiers[i - 1]?.upTo;
      if (tier.upTo !== null && previous != null && !new Dec(tier.upTo).gt(previous)) {
        ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: `tiers overlap: upTo must be greater than the previous tier's (${previous})` });
      }
    });
  });

export const PriceModelSchema = z.discriminatedUnion('model', [
  z.object({ model: z.literal('per_unit'), unitPrice: DecimalSchema, per: PerSchema.optional() }).strict(),
  z
    .object({ model: z.literal('package'), packageSize: PositiveDecimalSchema, packagePrice: DecimalSchema, rounding: z.enum(['up', 'down']) })
    .strict(),
  z.object({ model: z.literal('graduated'), tiers: TiersSchema, per: PerSchema.optional() }).strict(),
  z.object({ model: z.literal('volume'), tiers: TiersSchema, per: PerSchema.optional() }).strict(),
  z.object({ model: z.literal('flat'), amount: DecimalSchema, chargeWhenZero: z.boolean() }).strict(),
  z
    .object({ model: z.literal('unlimited'), fairUseCap: DecimalSchema.optional(), overageUnitPrice: DecimalSchema.optional(), per: PerSchema.optional() })
    .strict()
    .superRefine((m, ctx) => {
      if (m.overageUnitPrice !== undefined && m.fairUseCap === undefined) {
        ctx.addIssue({ code: 'custom', path: ['overageUnitPrice'], message: 'an overage price needs a fairUseCap to start from' });
      }
    }),
]) satisfies z.ZodType<PriceModel>;

/** One usage price; which meters and dimensions exist is checked by whoever knows them (the catalog). */
export const UsagePriceSchema = z
  .object({
    key: CodeSchema,
    displayName: z.string().min(1).max(200),
    meter: z.string().min(1).max(100),
    filter: DimensionFilterSchema.optional(),
    included: DecimalSchema.optional(),
    price: PriceModelSchema,
  })
  .strict() satisfies z.ZodType<UsagePrice>;

/** A list of usage prices: unique keys, and never two prices that match the same usage equally. */
export function usagePriceListSchema<T extends z.ZodType<UsagePrice>>(price: T) {
  return z
    .array(price)
    .max(LIMITS.planUsagePricesMax)
    .superRefine((prices, ctx) => {
      const seen = new Map<string, number>();
      prices.forEach((p, i) => {
        const first = seen.get(p.key);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `duplicate key: price ${first} already uses ${p.key}` });
        else seen.set(p.key, i);
      });
      for (const issue of ambiguousFilterIssues(prices)) ctx.addIssue({ code: 'custom', ...issue });
    });
}

export const SeatPriceSchema = z.object({ unitPrice: DecimalSchema, included: WholeNumberSchema }).strict() satisfies z.ZodType<SeatPrice>;

export const AddOnPriceSchema = z.object({ price: DecimalSchema, per: z.enum(['seat', 'flat']) }).strict() satisfies z.ZodType<AddOnPrice>;
