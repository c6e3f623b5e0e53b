/** App routes of usage: report a batch (`POST /v1/usage`) and read a team's usage. */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { EVENT_TYPES } from '../../usage/event-registry.js';
import { ingestUsage } from '../../usage/ingest.js';
import { METERS } from '../../pricing/meters.js';
import { usageAtoms } from '../../billing/priced-usage.js';
import { checkRange, parseInstant, usageRows } from '../../billing/usage-views.js';
import { requireApp } from '../auth/app-token.js';
import { countUsageOutcomes } from '../metrics.js';
import type { ApiEnv } from '../deps.js';
import { IdSchema, problemResponses, router, TeamIdParam } from '../openapi.js';

const exampleType = EVENT_TYPES.get('llm.tokens.v1');

const UsageEventDoc = z
  .object({
    idempotencyKey: z.string().openapi({ description: `Printable ASCII, at most ${LIMITS.idempotencyKeyLengthMax} characters; unique per app for ever`, example: 'evt_abc123' }),
    eventType: z.enum([...EVENT_TYPES.keys()] as [string, ...string[]]).openapi({ example: 'llm.tokens.v1' }),
    timestamp: z.string().openapi({ description: 'ISO 8601 with seconds and an offset; millisecond precision', example: '2026-01-31T12:00:00Z' }),
    teamId: z.string().openapi({ example: 'team_xyz' }),
    payload: z.record(z.string(), z.unknown()).openapi({ description: 'As the event type defines it', example: exampleType?.example as Record<string, unknown> }),
    source: z.string().openapi({ example: 'my-tool/1.0.0' }),
  })
  .openapi('UsageEvent');

const UsageBatchDoc = z.object({ events: z.array(UsageEventDoc) }).openapi('UsageBatch');

export const UsageResult = z
  .object({
    results: z.array(
      z.object({
        index: z.number().int(),
        idempotencyKey: z.string(),
        status: z.enum(['accepted', 'duplicate', 'conflict', 'rejected']),
        reason: z.string().optional().openapi({ description: 'timestamp_too_old | timestamp_in_future | period_closed | counter_limit | payload_differs' }),
        eventId: z.string().optional(),
        adjusted: z.literal(true).optional().openapi({ description: 'Counted into a closed period as an adjustment for the next invoice' }),
      }),
    ),
    accepted: z.number().int(),
    duplicates: z.number().int(),
    conflicts: z.number().int(),
    rejected: z.number().int(),
  })
  .openapi('UsageBatchResult');

/** The body as JSON; anything else is `malformed_json`, never a 500. */
async function jsonBody(c: Context<ApiEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AppError('malformed_json');
  }
}

export const usage = router();
// Referenced, not attached as a zod schema: the route must not validate the body itself, because
// validateBatch does, naming every bad event and field (`events.3.payload.inputTokens`).
usage.openAPIRegistry.register('UsageBatch', UsageBatchDoc);

const Instant = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .openapi({ description: 'A UTC day (YYYY-MM-DD, meaning its midnight) or an ISO timestamp', example: '2026-11-01' });

export const UsageRowSchema = z
  .object({
    periodId: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    periodStatus: z.enum(['open', 'closed']),
    day: z.string().optional(),
    meter: z.string(),
    unit: z.string(),
    dimensions: z.record(z.string(), z.string()),
    quantity: z.string().openapi({ description: 'Decimal; for a gauge (storage.bytes) the average over the period' }),
    events: z.number().int(),
    price: z.string().openapi({ description: 'Estimated charge so far by the team\'s plan (decimal, in `currency`)' }),
    currency: z.string().nullable(),
    note: z.enum(['no_plan', 'no_price']).optional().openapi({ description: 'Why the price is 0' }),
  })
  .openapi('UsageRow');

export const TeamUsageSchema = z.object({ teamId: z.string(), from: z.string(), to: z.string(), granularity: z.enum(['period', 'day']), rows: z.array(UsageRowSchema) });

usage.openapi(
  createRoute({
    method: 'get',
    path: '/teams/{teamId}/usage',
    tags: ['usage'],
    summary: "Read a team's usage",
    description: [
      'Usage of the billing periods overlapping [from, to) (default: the current period), per meter and dimension set,',
      'with the charge the team\'s plan puts on it so far. `granularity=day` splits it by UTC day and keeps only the days in range;',
      '`app` keeps only what that app reported; `meter` one meter.',
      `The range may span at most ${LIMITS.usageReportDaysMax} days (LIMITS.usageReportDaysMax).`,
    ].join(' '),
    security: [{ appJwt: [] }],
    middleware: [requireApp('usage:read', { team: 'path' })] as const,
    request: {
      params: TeamIdParam,
      query: z.object({
        from: Instant.optional(),
        to: Instant.optional(),
        granularity: z.enum(['period', 'day']).default('period'),
        meter: z.enum(Object.keys(METERS) as [string, ...string[]]).optional(),
        app: IdSchema.optional(),
      }),
    },
    responses: {
      200: {
        description: 'Usage rows',
        content: { 'application/json': { schema: TeamUsageSchema } },
      },
      ...problemResponses,
    },
  }),
  async (c) => {
    const { teamId } = c.req.valid('param');
    const q = c.req.valid('query');
    const now = new Date();
    const from = q.from ? parseInstant(q.from) : now;
    const to = q.to ? parseInstant(q.to) : new Date(from.getTime() + 1);
    checkRange(from, to);
    const atoms = await usageAtoms(c.get('deps').sql, { teamId, appId: q.app, meter: q.meter, from, to, daysOnly: q.granularity === 'day', now });
    return c.json({ teamId, from: from.toISOString(), to: to.toISOString(), granularity: q.granularity, rows: usageRows(atoms, q.granularity === 'day') }, 200);
  },
);

usage.openapi(
  createRoute({
    method: 'post',
    path: '/usage',
    tags: ['usage'],
    summary: 'Report a batch of usage events',
    description: [
      `Up to ${LIMITS.usageBatchEventsMax} events (LIMITS.usageBatchEventsMax). Each event is counted exactly once per (app, idempotencyKey), for ever.`,
      'A batch with any malformed event is refused whole (400 validation_failed, every bad field named, e.g. `events.3.payload.inputTokens`).',
      'A batch with an event for a team not connected to the app is refused whole (403 team_not_connected, the events named); with a team-bound token, events of other teams give 403 team_mismatch.',
      `Otherwise each event gets a status: accepted, duplicate, conflict or rejected (timestamp older than LIMITS.usageLatenessMaxMs or more than LIMITS.usageFutureSkewMs ahead, a closed period under the team's reject policy, or counter_limit: a counter of the event at its ceiling per period, see LIMITS in src/shared/limits.ts). Quantities are at most ${LIMITS.usageEventQuantityMax} (LIMITS.usageEventQuantityMax).`,
      `Event types: ${[...EVENT_TYPES.values()].map((t) => `\`${t.type}\` — ${t.description}`).join(' ')}`,
    ].join('\n\n'),
    security: [{ appJwt: [] }],
    middleware: [requireApp('usage:write', { team: 'any' })] as const,
    request: { body: { content: { 'application/json': { schema: { $ref: '#/components/schemas/UsageBatch' } } }, required: true } },
    responses: { 200: { description: 'Every event with its status, in request order', content: { 'application/json': { schema: UsageResult } } }, ...problemResponses },
  }),
  async (c) => {
    const { sql, directory } = c.get('deps');
    const principal = c.get('principal');
    const result = await ingestUsage(sql, directory, { appId: principal.appId, teamId: principal.teamId }, await jsonBody(c));
    countUsageOutcomes(c.get('metrics').usageEvents, result);
    return c.json(result, 200);
  },
);
