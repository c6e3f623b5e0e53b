/**
 * `POST /webhooks/stripe`: verifies Stripe's signature on the raw body (timestamp within the tolerance
 * window both ways), checks the event envelope, stores the event once by id, signals the workflow it
 * is for, and answers 2xx. Never JWT on this route.
 *
 * - A bad signature is a 400 and stores nothing.
 * - A correctly signed body that is not a readable event (src/webhooks/stripe-envelope.ts) is parked
 *   as `unprocessable` and answered 200: Stripe would redeliver a refused event for days and then
 *   disable the endpoint, yet the same bytes can never succeed. Nothing reaches stripe_events.
 * - An event naming a subscription we do not have is parked as `unmatched` and answered 200.
 * - A redelivered event changes nothing (it is only re-signalled if the first delivery never reached
 *   its workflow, and handlers dedupe by event id).
 * Parked events are listed by `GET /admin/stripe-events/parked`; every outcome is counted in
 * `stripe_webhook_events_total{outcome}`.
 */
import { z, type RouteConfig } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type Stripe from 'stripe';
import { AppError } from '../../shared/errors.js';
import { routeStripeEvent } from '../../orchestration/stripe-events.js';
import { parseStripeEnvelope } from '../../webhooks/stripe-envelope.js';
import { verifyStripeSignature } from '../../webhooks/stripe-signature.js';
import { parkUnmatched, parkUnprocessable } from '../../webhooks/parked-stripe-events.js';
import { markRouted, storeStripeEvent } from '../../webhooks/stripe-event-store.js';
import type { ApiDeps, ApiEnv } from '../deps.js';

/** The route's entry in the OpenAPI document (the route itself reads the raw body, so it is a plain Hono route). */
export const stripeWebhookDoc: RouteConfig = {
  method: 'post',
  path: '/webhooks/stripe',
  tags: ['stripe'],
  summary: "Stripe's webhook deliveries",
  description: [
    'Signed by Stripe (`Stripe-Signature`, the timestamp within LIMITS.stripeWebhookToleranceSeconds either way); no JWT.',
    'A bad signature is 400 webhook_signature_invalid and stores nothing. A signed body that is not a readable event is parked as',
    '`unprocessable`, an event naming a subscription we do not have as `unmatched`; both are answered 200 (Stripe would otherwise',
    'redeliver for days and disable the endpoint) and listed by GET /admin/stripe-events/parked. Redeliveries are answered as duplicates.',
  ].join(' '),
  request: {
    headers: z.object({ 'stripe-signature': z.string() }),
    body: { content: { 'application/json': { schema: z.looseObject({ id: z.string(), type: z.string() }).openapi({ description: 'A Stripe event' }) } }, required: true },
  },
  responses: {
    200: {
      description: 'Received (also when parked)',
      content: { 'application/json': { schema: z.object({ received: z.literal(true), duplicate: z.boolean(), parked: z.enum(['unprocessable', 'unmatched']).optional() }) } },
    },
    400: { description: 'Bad signature', content: { 'application/problem+json': { schema: z.object({ code: z.string() }) } } },
  },
};

/** Signals the event's workflow; an event naming a subscription we do not have is parked instead. */
async function routeOrPark(deps: ApiDeps, event: Stripe.Event): Promise<{ routedTo: string | null; unmatched: boolean }> {
  const { sql, temporal, taskQueue, subscriptionTiming } = deps;
  try {
    return { routedTo: await routeStripeEvent({ client: temporal, taskQueue, timing: subscriptionTiming }, sql, event), unmatched: false };
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'not_found')) throw err;
    await parkUnmatched(sql, event, { path: 'data.object', message: err.message });
    return { routedTo: null, unmatched: true };
  }
}

export const stripeWebhooks = new Hono<ApiEnv>().post('/stripe', async (c) => {
  const deps = c.get('deps');
  const { stripe, webhookSecret, sql, log } = deps;
  const outcomes = c.get('metrics').stripeWebhookEvents;
  const raw = await c.req.text();
  await verifyStripeSignature(stripe, raw, c.req.header('stripe-signature'), webhookSecret);

  const envelope = parseStripeEnvelope(raw);
  if (!envelope.ok) {
    const first = await parkUnprocessable(sql, raw, envelope);
    outcomes.inc({ outcome: 'unprocessable' });
    log.warn({ eventId: envelope.eventId, type: envelope.eventType, problems: envelope.problems.slice(0, 5) }, 'stripe event parked: unprocessable');
    return c.json({ received: true, duplicate: !first, parked: 'unprocessable' }, 200);
  }
  const { event } = envelope;
  const { inserted, routedAt } = await storeStripeEvent(sql, event);
  if (routedAt !== null) {
    outcomes.inc({ outcome: 'duplicate' });
    return c.json({ received: true, duplicate: true }, 200);
  }
  const { routedTo, unmatched } = await routeOrPark(deps, event);
  await markRouted(sql, event.id, routedTo);
  outcomes.inc({ outcome: unmatched ? 'unmatched' : routedTo ? 'routed' : 'ignored' });
  if (unmatched) {
    log.warn({ eventId: event.id, type: event.type }, 'stripe event parked: unmatched');
    return c.json({ received: true, duplicate: !inserted, parked: 'unmatched' }, 200);
  }
  log.info({ eventId: event.id, type: event.type, routedTo }, 'stripe event routed');
  return c.json({ received: true, duplicate: !inserted }, 200);
});
