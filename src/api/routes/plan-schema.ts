/**
 * OpenAPI shapes of plans and plan versions, shared by the operator and the app catalog routes.
 * The domain schemas (src/catalog/schema.ts) are plain zod, created before @hono/zod-openapi may have
 * been loaded, so `.openapi()` is only ever called on schemas built here.
 */
import { z } from '@hono/zod-openapi';
import { AddOnSchema, CURRENCIES, INTERVALS, LimitSchema, CatalogUsagePriceSchema, PlanCodeSchema } from '../../catalog/schema.js';
import { SeatPriceSchema } from '../../pricing/schema.js';
import { LIMITS } from '../../shared/limits.js';

export const PlanVersionSchema = z
  .object({
    id: z.string().openapi({ example: 'standard-v2' }),
    planCode: z.string(),
    version: z.number().int(),
    publishedAt: z.string(),
    currency: z.enum(CURRENCIES),
    interval: z.enum(INTERVALS),
    baseFee: z.string().openapi({ example: '99' }),
    seats: SeatPriceSchema.nullable(),
    addOns: z.record(z.string(), AddOnSchema),
    features: z.record(z.string(), z.boolean()),
    limits: z.record(z.string(), LimitSchema),
    usagePrices: z.array(CatalogUsagePriceSchema),
  })
  .openapi('PlanVersion', { description: 'An immutable, published plan version. Every amount is a decimal string.' });

export const PlanSummarySchema = z
  .object({ code: z.string(), name: z.string(), createdAt: z.string(), latest: PlanVersionSchema })
  .openapi('PlanSummary');

export const PlanPageSchema = z
  .object({ items: z.array(PlanSummarySchema), next: z.string().nullable().openapi({ description: 'Pass as `after` for the next page' }) })
  .openapi('PlanPage');

export const PlanCodeParam = z.object({ planCode: PlanCodeSchema });

export const PlanListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).optional().openapi({ param: { name: 'limit', in: 'query' } }),
    after: PlanCodeSchema.optional(),
  })
  .strict();
