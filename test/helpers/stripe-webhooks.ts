/**
 * Plays Stripe's side of webhooks in tests: the event builders and signing of the local Stripe tools
 * (src/dev/stripe-event-payloads.ts), sent through the in-process api.
 */
import type { TestApi } from './context.js';
import { TEST_WEBHOOK_SECRET } from './constants.js';
import { stripeSignature } from '../../src/dev/stripe-event-payloads.js';

export { checkoutCompleted, eventId, invoiceEvent, subscriptionEvent } from '../../src/dev/stripe-event-payloads.js';

export function signedWebhook(payload: string, secret = TEST_WEBHOOK_SECRET, timestamp?: number): string {
  return stripeSignature(payload, secret, timestamp);
}

export async function sendEvent(api: Pick<TestApi, 'request'>, event: Record<string, unknown>, opts: { secret?: string; timestamp?: number } = {}): Promise<Response> {
  const payload = JSON.stringify(event);
  return api.request('POST', '/webhooks/stripe', {
    rawBody: payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': signedWebhook(payload, opts.secret, opts.timestamp) },
  });
}
