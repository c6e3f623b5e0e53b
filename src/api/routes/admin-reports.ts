/** Operator reports: margin (price − COGS) per team, app, meter, model and day. */
import { createRoute, z } from '@hono/zod-openapi';
import { LIMITS } from '../../shared/limits.js';
import { validationError } from '../../shared/errors.js';
import { usageAtoms } from '../../billing/priced-usage.js';
import { checkRange, MARGIN_GROUP_KEYS, marginRows, parseInstant, type MarginGroupKey } from '../../billing/usage-views.js';
import { requireAdmin } from '../auth/admin.js';
import { IdSchema, problemResponses, router } from '../openapi.js';

const Instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

const MarginRowSchema = z
  .object({
    team: z.string().nullable().optional(),
    app: z.string().nullable().optional(),
    meter: z.string().nullable().optional(),
    model: z.string().nullable().optional(),
    day: z.string().nullable().optional(),
    quantity: z.string().optional(),
    events: z.number().int(),
    price: z.string(),
    currency: z.string(),
    cost: z.string(),
    margin: z.string().nullable(),
    notes: z.array(z.string()),
  })
  .openapi('MarginRow');

export const adminReports = router();
adminReports.use('*', requireAdmin);

adminReports.openapi(
  createRoute({
    method: 'get',
    path: '/margin',
    tags: ['admin'],
    summary: 'Margin report: usage, price, cost and margin',
    description: [
      'Usage of the UTC days in [from, to), grouped by any of team, app, meter, model, day (default team,meter,model).',
      "Price: the team's plan rates each billing period, allocated to days and apps by their share of the usage; a team without a plan has price 0 and the row says so.",
      'Cost: the exact COGS accrued at ingest (USD). Margin = price − cost, when the price is in USD.',
      `At most ${LIMITS.usageReportDaysMax} days (LIMITS.usageReportDaysMax).`,
    ].join(' '),
    security: [{ adminBearer: [] }],
    request: {
      query: z.object({
        from: Instant,
        to: Instant,
        groupBy: z.string().default('team,meter,model').openapi({ example: 'team,app,meter,model,day' }),
        teamId: IdSchema.optional(),
        appId: IdSchema.optional(),
      }),
    },
    responses: {
      200: {
        description: 'Rows and totals',
        content: {
          'application/json': {
            schema: z.object({
              from: z.string(),
              to: z.string(),
              groupBy: z.array(z.enum(MARGIN_GROUP_KEYS)),
              rows: z.array(MarginRowSchema),
              totals: z.object({ price: z.string(), cost: z.string(), margin: z.string().nullable() }),
            }),
          },
        },
      },
      ...problemResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const groupBy = q.groupBy.split(',').map((k) => k.trim()).filter((k) => k !== '');
    const unknown = groupBy.filter((k) => !(MARGIN_GROUP_KEYS as readonly string[]).includes(k));
    if (unknown.length > 0) throw validationError([{ path: 'query.groupBy', message: `unknown keys ${unknown.join(', ')}; use ${MARGIN_GROUP_KEYS.join(', ')}` }]);
    const from = parseInstant(q.from);
    const to = parseInstant(q.to);
    checkRange(from, to);
    const atoms = await usageAtoms(c.get('deps').sql, { teamId: q.teamId, appId: q.appId, from, to, daysOnly: true });
    const keys = [...new Set(groupBy)] as MarginGroupKey[];
    return c.json({ from: from.toISOString(), to: to.toISOString(), groupBy: keys, ...marginRows(atoms, keys) }, 200);
  },
);
