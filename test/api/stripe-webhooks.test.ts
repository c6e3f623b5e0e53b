/** The Stripe webhook route: signature on the raw body, stored once by event id, routed once. */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, startWorker, testApi, type TestApi } from '../helpers/context.js';
import { eventId, sendEvent, signedWebhook } from '../helpers/stripe-webhooks.js';

let api: TestApi;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  api = await testApi({ taskQueue });
});

const ping = (id = eventId()) => ({ id, object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: 'cus_x', object: 'customer' } } });
const stored = async (id: string) => (await adminSql()`select 1 from stripe_events where id = ${id}`).length;

describe('POST /webhooks/stripe', () => {
  it('stores a correctly signed event once and acknowledges it', async () => {
    const event = ping();
    const res = await sendEvent(api, event);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false });
    expect(await stored(event.id)).toBe(1);
  });

  it('answers a redelivery as a duplicate and changes nothing', async () => {
    const event = ping();
    await sendEvent(api, event);
    const [before] = await adminSql()<{ routed_at: Date | null; received_at: Date }[]>`select routed_at, received_at from stripe_events where id = ${event.id}`;
    const again = await sendEvent(api, event);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    const [after] = await adminSql()<{ routed_at: Date | null; received_at: Date }[]>`select routed_at, received_at from stripe_events where id = ${event.id}`;
    expect(after).toEqual(before);
  });

  it('rejects a bad signature with 400 webhook_signature_invalid and stores nothing', async () => {
    const event = ping();
    const res = await sendEvent(api, event, { secret: 'whsec_not_ours' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('webhook_signature_invalid');
    expect(await stored(event.id)).toBe(0);
  });

  it('rejects a signature older than the tolerance window', async () => {
    const event = ping();
    const res = await sendEvent(api, event, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(res.status).toBe(400);
    expect(await stored(event.id)).toBe(0);
  });

  it('rejects a body altered after signing', async () => {
    const event = ping();
    const payload = JSON.stringify(event);
    const res = await api.request('POST', '/webhooks/stripe', {
      rawBody: payload.replace('customer.created', 'invoice.paid'),
      headers: { 'content-type': 'application/json', 'stripe-signature': signedWebhook(payload) },
    });
    expect(res.status).toBe(400);
    expect(await stored(event.id)).toBe(0);
  });

  it('does not take app tokens on this route (no signature header is a 400, not a 401)', async () => {
    const res = await api.request('POST', '/webhooks/stripe', { rawBody: '{}', headers: { authorization: 'Bearer x', 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
  });
});
