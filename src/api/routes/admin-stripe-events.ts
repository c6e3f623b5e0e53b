/** Operator routes for Stripe webhooks: the events we acknowledged but could not act on (parked). */
import { createRoute, z } from '@hono/zod-openapi';
import { LIMITS } from '../../shared/limits.js';
import { listParkedStripeEvents, PARK_REASONS, PARKED_BODY_PREVIEW_BYTES } from '../../webhooks/parked-stripe-events.js';
import { requireAdmin } from '../auth/admin.js';
import { problemResponses, router } from '../openapi.js';

const ParkedEvent = z
  .object({
    parkedId: z.string(),
    reason: z.enum(PARK_REASONS).openapi({ description: 'unprocessable: a signed body that is not a readable event; unmatched: an event naming a subscription we do not have' }),
    eventId: z.string().nullable(),
    eventType: z.string().nullable(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })),
    bodyBytes: z.number().int().nullable(),
    bodySha256: z.string().nullable(),
    bodyPreview: z.string().nullable().openapi({ description: `The first ${PARKED_BODY_PREVIEW_BYTES} bytes of an unprocessable body, as UTF-8` }),
    parkedAt: z.string(),
  })
  .openapi('ParkedStripeEvent');

export const adminStripeEvents = router();
adminStripeEvents.use('*', requireAdmin);

adminStripeEvents.openapi(
  createRoute({
    method: 'get',
    path: '/parked',
    tags: ['admin'],
    summary: 'Stripe events acknowledged but parked',
    description: [
      'Correctly signed webhook deliveries we answered 200 without acting on them, oldest first:',
      '`unprocessable` (not a readable event envelope; the body is kept byte for byte) and `unmatched` (an event naming a subscription we do not have).',
      'Each is parked once however often Stripe redelivers it; `stripe_webhook_events_total{outcome}` on /metrics counts deliveries.',
    ].join(' '),
    security: [{ adminBearer: [] }],
    request: {
      query: z
        .object({
          reason: z.enum(PARK_REASONS).optional(),
          after: z.string().regex(/^\d{1,18}$/, 'must be a parkedId').optional().openapi({ description: 'Cursor: `next` of the previous page' }),
          limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
        })
        .strict(),
    },
    responses: {
      200: { description: 'A page of parked events', content: { 'application/json': { schema: z.object({ items: z.array(ParkedEvent), next: z.string().nullable() }) } } },
      ...problemResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const page = await listParkedStripeEvents(c.get('deps').sql, { reason: q.reason, after: q.after ? BigInt(q.after) : undefined, limit: q.limit });
    return c.json(page, 200);
  },
);
