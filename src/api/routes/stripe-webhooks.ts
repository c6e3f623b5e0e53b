/**
 * `POST /webhooks/stripe`: verifies Stripe's signature on the raw body (within the tolerance window),
 * stores the event once by id, signals the workflow it is for, and answers 2xx. A bad signature is a
 * 400 and stores nothing; a redelivered event changes nothing (it is only re-signalled if the first
 * delivery never reached its workflow, and handlers dedupe by event id). Never JWT on this route.
 */
import { Hono } from 'hono';
import type Stripe from 'stripe';
import { AppError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import { routeStripeEvent } from '../../orchestration/stripe-events.js';
import type { ApiEnv } from '../deps.js';

export const stripeWebhooks = new Hono<ApiEnv>().post('/stripe', async (c) => {
  const { stripe, webhookSecret, sql, temporal, taskQueue, subscriptionTiming, log } = c.get('deps');
  const signature = c.req.header('stripe-signature');
  const raw = await c.req.text();
  let event: Stripe.Event;
  try {
    event = await stripe.webhooks.constructEventAsync(raw, signature ?? '', webhookSecret, LIMITS.stripeWebhookToleranceSeconds);
  } catch (err) {
    throw new AppError('webhook_signature_invalid', (err as Error).message);
  }
  const inserted = await sql`
    insert into stripe_events (id, type, api_version, livemode, created, payload)
    values (${event.id}, ${event.type}, ${event.api_version ?? null}, ${event.livemode}, ${new Date(event.created * 1000)}, ${sql.json(event as never)})
    on conflict (id) do nothing
    returning id`;
  const [stored] = await sql<{ routed_at: Date | null }[]>`select routed_at from stripe_events where id = ${event.id}`;
  if (stored!.routed_at === null) {
    const routedTo = await routeStripeEvent({ client: temporal, taskQueue, timing: subscriptionTiming }, sql, event);
    await sql`update stripe_events set routed_to = ${routedTo}, routed_at = now() where id = ${event.id} and routed_at is null`;
    log.info({ eventId: event.id, type: event.type, routedTo }, 'stripe event routed');
  }
  return c.json({ received: true, duplicate: inserted.length === 0 }, 200);
});
