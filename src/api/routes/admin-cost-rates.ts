/** Operator routes for COGS cost rates: publish (append-only, effective-dated) and list. */
import { createRoute, z } from '@hono/zod-openapi';
import { DECIMAL_PATTERN } from '../../shared/money.js';
import { listCostRates, publishCostRate } from '../../usage/cost-rates.js';
import { METERS } from '../../pricing/meters.js';
import { requireAdmin } from '../auth/admin.js';
import { problemResponses, router } from '../openapi.js';

const meterCodes = Object.keys(METERS) as [string, ...string[]];
const decimal = z.string().regex(new RegExp(DECIMAL_PATTERN), 'must be a decimal string like "2.50"');

const CostRateInput = z
  .object({
    provider: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1–64 lowercase letters, digits, ., _ or -').openapi({ example: 'openai' }),
    model: z.string().min(1).max(128).nullable().default(null).openapi({ description: 'null = every model of the provider', example: 'gpt-5' }),
    meter: z.enum(meterCodes).openapi({ example: 'llm.input_tokens' }),
    unitCost: decimal.refine((v) => !v.startsWith('-'), 'must not be negative').openapi({ description: 'USD per `per` units', example: '1.25' }),
    per: z.string().regex(/^10*$/, 'must be a power of ten').default('1').openapi({ example: '1000000' }),
    effectiveFrom: z.iso.datetime({ offset: true }).openapi({ example: '2026-01-01T00:00:00Z' }),
    note: z.string().max(500).optional(),
  })
  .strict()
  .openapi('CostRateInput');

const CostRate = z
  .object({
    costRateId: z.string(),
    provider: z.string(),
    model: z.string().nullable(),
    meter: z.string(),
    currency: z.literal('USD'),
    unitCost: z.string(),
    per: z.string(),
    ratePerUnit: z.string(),
    effectiveFrom: z.string(),
    publishedAt: z.string(),
    publishedBy: z.string(),
    note: z.string().nullable(),
  })
  .openapi('CostRate');

const security = [{ adminBearer: [] }];

export const adminCostRates = router();
adminCostRates.use('*', requireAdmin);

adminCostRates
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['admin'],
      summary: 'Publish a cost rate',
      description:
        'Append-only: a rate supersedes earlier ones from its effectiveFrom. Idempotent by (provider, model, meter, effectiveFrom); the same key with other values is 409 idempotency_conflict. Usage already counted keeps its cost.',
      security,
      request: { body: { content: { 'application/json': { schema: CostRateInput } }, required: true } },
      responses: {
        201: { description: 'Published', content: { 'application/json': { schema: CostRate } } },
        200: { description: 'Replay', content: { 'application/json': { schema: CostRate } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const { rate, replayed } = await publishCostRate(c.get('deps').sql, { ...input, effectiveFrom: new Date(input.effectiveFrom) }, 'admin');
      if (replayed) c.header('Idempotency-Replayed', 'true');
      return c.json(rate, replayed ? 200 : 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['admin'],
      summary: 'List cost rates',
      description: 'All published rates, or with `at` only those in effect at that time.',
      security,
      request: {
        query: z.object({
          provider: z.string().max(64).optional(),
          meter: z.enum(meterCodes).optional(),
          at: z.iso.datetime({ offset: true }).optional(),
        }),
      },
      responses: { 200: { description: 'Rates', content: { 'application/json': { schema: z.object({ rates: z.array(CostRate) }) } } }, ...problemResponses },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rates = await listCostRates(c.get('deps').sql, { provider: q.provider, meter: q.meter, at: q.at ? new Date(q.at) : undefined });
      return c.json({ rates }, 200);
    },
  );
