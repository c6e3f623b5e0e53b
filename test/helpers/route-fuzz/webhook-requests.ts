/**
 * Fuzz requests for `POST /webhooks/stripe`, which is not an OpenAPI operation (Stripe's signature,
 * not a schema, guards it): correctly signed bodies broken in one way each (parked as unprocessable,
 * answered 200), and bodies whose signature is missing, wrong, stale or dated in the future (400).
 */
import fc from 'fast-check';
import { LIMITS } from '../../../src/shared/limits.js';
import { TEST_WEBHOOK_SECRET } from '../constants.js';
import { checkoutCompleted, eventId, invoiceEvent, signedWebhook, subscriptionEvent } from '../stripe-webhooks.js';
import type { FuzzRequest } from './requests.js';
import { matching, pick, UNSTORABLE_STRINGS } from './schema-values.js';

type G = fc.GeneratorValue;
type Event = Record<string, unknown> & { data: { object: Record<string, unknown> } };

const period = { periodStart: '2026-01-01T00:00:00Z', periodEnd: '2026-02-01T00:00:00Z' };

function baseEvent(g: G): Event {
  const ids = { subscriptionId: `sub_${g(matching, '^[a-f0-9]{12}$')}`, stripeSubscriptionId: 'sub_stripe_fuzz' };
  const kind = g(fc.integer, { min: 0, max: 3 });
  if (kind === 0) return checkoutCompleted({ sessionId: 'cs_fuzz', ...ids, stripeCustomerId: 'cus_fuzz' }) as Event;
  if (kind === 1) return subscriptionEvent('customer.subscription.updated', { ...ids, items: [{ id: 'si_1', priceId: 'price_1', quantity: 1 }], ...period }) as Event;
  if (kind === 2) return invoiceEvent('invoice.paid', { stripeInvoiceId: 'in_fuzz', ...ids, ...period, totalCents: 1000 }) as Event;
  return { id: eventId(), object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: 'cus_x', object: 'customer' } } };
}

const ROUTED_FIELD_BREAKS: Record<string, Array<[string, unknown]>> = {
  'checkout.session': [['id', 5], ['metadata', { subscription_id: 5 }], ['client_reference_id', ['x']], ['subscription', 12]],
  subscription: [['status', 5], ['cancel_at_period_end', 'no'], ['items', { data: [{ id: 1 }] }], ['id', null]],
  invoice: [['total', '1000'], ['amount_paid', 1.5], ['period_start', 'soon'], ['attempt_count', -1], ['currency', 5], ['id', {}]],
};

/** One change that makes a signed event unreadable, described for the failure report. */
function breakEvent(g: G, event: Event): { raw: string; defect: string } {
  const kind = g(fc.integer, { min: 0, max: 7 });
  const e: Record<string, unknown> = { ...event };
  if (kind === 0) {
    const key = pick(g, ['id', 'object', 'type', 'created', 'livemode', 'data']);
    delete e[key];
    return { raw: JSON.stringify(e), defect: `envelope without ${key}` };
  }
  if (kind === 1) {
    const [key, value] = pick(g, [['id', true], ['id', 12], ['id', 'not_an_event'], ['type', 5], ['type', 'Invoice Paid'], ['created', 'yesterday'], ['created', -1], ['created', 1e15], ['livemode', 'false'], ['data', []], ['data', { object: 'x' }], ['object', 'invoice']]) as [string, unknown];
    e[key] = value;
    return { raw: JSON.stringify(e), defect: `envelope ${key} = ${JSON.stringify(value)}` };
  }
  if (kind === 2) {
    const bad = pick(g, UNSTORABLE_STRINGS);
    const asKey = g(fc.boolean);
    e.data = { object: { ...event.data.object, ...(asKey ? { [bad]: 1 } : { description: bad }) } };
    return { raw: JSON.stringify(e), defect: `unstorable text in data.object ${asKey ? 'key' : 'value'}` };
  }
  if (kind === 3) {
    const depth = g(fc.integer, { min: LIMITS.stripeEventDepthMax, max: 6000 });
    return { raw: JSON.stringify(e).replace('"data":{"object":{', `"data":{"object":{"deep":${'['.repeat(depth)}${']'.repeat(depth)},`), defect: `nested ${depth} deep` };
  }
  if (kind === 4) {
    const object = event.data.object.object as string;
    const breaks = ROUTED_FIELD_BREAKS[object];
    if (breaks) {
      const [field, value] = pick(g, breaks);
      e.data = { object: { ...event.data.object, [field]: value } };
      return { raw: JSON.stringify(e), defect: `${object}.${field} = ${JSON.stringify(value)}` };
    }
  }
  const raw = pick(g, ['{}', '[]', 'null', '"evt"', '42', '{"id":', JSON.stringify(e).slice(0, -1), `${JSON.stringify(e)}}`]);
  return { raw, defect: `body ${raw.slice(0, 24)}` };
}

/** A webhook delivery: most signed and broken, some with a signature that must be refused. */
export function webhookRequest(g: G): FuzzRequest {
  const event = baseEvent(g);
  const signing = g(fc.integer, { min: 0, max: 9 });
  const base = { kind: 'webhook' as const, operation: 'POST /webhooks/stripe', method: 'POST', url: '/webhooks/stripe' };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signing < 6) {
    const { raw, defect } = breakEvent(g, event);
    headers['stripe-signature'] = signedWebhook(raw);
    return { ...base, headers, body: raw, defects: [`signed; ${defect}`], expect: 'parked' };
  }
  const raw = JSON.stringify(event);
  const now = Math.floor(Date.now() / 1000);
  const tolerance = LIMITS.stripeWebhookToleranceSeconds;
  const [defect, signature] = pick<[string, string | undefined]>(g, [
    ['no signature', undefined],
    ['signed with another secret', signedWebhook(raw, 'whsec_not_ours_0123456789')],
    ['signature older than the tolerance', signedWebhook(raw, TEST_WEBHOOK_SECRET, now - tolerance - 120)],
    ['signature dated in the future', signedWebhook(raw, TEST_WEBHOOK_SECRET, now + tolerance + 120)],
    ['signature of another body', signedWebhook(`${raw} `)],
    ['malformed signature header', 't=abc,v1=zz'],
  ]);
  if (signature !== undefined) headers['stripe-signature'] = signature;
  return { ...base, headers, body: raw, defects: [defect], expect: 'rejected' };
}
