/** The Stripe webhook route: signature on the raw body, stored once by event id, routed once. */
import { beforeAll, describe, expect, it } from 'vitest';
import { stripeCommand } from '../../src/cli/stripe.js';
import { adminSql, appSql, startWorker, testApi, TEST_ADMIN_TOKEN, type TestApi } from '../helpers/context.js';
import { checkoutCompleted, eventId, invoiceEvent, sendEvent, signedWebhook } from '../helpers/stripe-webhooks.js';

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

/** Posts `raw` with a valid signature, whatever it is. */
const sendSigned = (raw: string, timestamp?: number) =>
  api.request('POST', '/webhooks/stripe', { rawBody: raw, headers: { 'content-type': 'application/json', 'stripe-signature': signedWebhook(raw, undefined, timestamp) } });

const parkedFor = async (raw: string) =>
  adminSql()<{ reason: string; event_id: string | null; problems: { path: string }[]; body: Buffer }[]>`
    select reason, event_id, problems, body from stripe_events_parked where body = ${Buffer.from(raw, 'utf8')}`;

const metric = async (outcome: string): Promise<number> => {
  const text = await (await api.request('GET', '/metrics', { token: TEST_ADMIN_TOKEN })).text();
  const line = text.split('\n').find((l) => l.startsWith(`stripe_webhook_events_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe('POST /webhooks/stripe with a valid signature on a malformed body', () => {
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  const good = ping();
  const MALFORMED: Array<[string, string]> = [
    ['an empty object', '{}'],
    ['an array', '[]'],
    ['null', 'null'],
    ['not JSON', '{"id": "evt_'],
    ['a string created', JSON.stringify({ ...good, id: eventId(), created: 'yesterday' })],
    ['a NUL byte', JSON.stringify({ ...good, id: eventId(), data: { object: { id: 'cus_x', object: 'customer', name: 'a\u0000b' } } })],
    ['a lone surrogate', JSON.stringify({ ...good, id: eventId(), data: { object: { id: 'cus_x', object: 'customer', name: 'x\ud800' } } })],
    ['no id', JSON.stringify({ ...good, id: undefined })],
    ['no type', JSON.stringify({ ...good, id: eventId(), type: undefined })],
    ['id: true', JSON.stringify({ ...good, id: true })],
    ['5,000-deep nesting', `{"id":"${eventId()}","object":"event","type":"customer.created","created":${good.created},"livemode":false,"data":{"object":${deep(5000)}}}`],
    ['an invoice event whose total is not a number', JSON.stringify(invoiceEvent('invoice.paid', { stripeInvoiceId: 'in_x', stripeSubscriptionId: 'sub_x', subscriptionId: 'sub_ours', periodStart: '2026-01-01', periodEnd: '2026-02-01', totalCents: 100 })).replace('"total":100', '"total":"100"')],
  ];

  it.each(MALFORMED)('parks %s as unprocessable, answers 200 and stores no event', async (_name, raw) => {
    const before = await adminSql()<{ n: bigint }[]>`select count(*)::bigint as n from stripe_events`;
    const res = await sendSigned(raw);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false, parked: 'unprocessable' });
    const [parked] = await parkedFor(raw);
    expect(parked!.reason).toBe('unprocessable');
    expect(parked!.problems.length).toBeGreaterThan(0);
    const after = await adminSql()<{ n: bigint }[]>`select count(*)::bigint as n from stripe_events`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('parks a redelivered malformed body once and answers each delivery 200', async () => {
    const raw = JSON.stringify({ ...good, id: eventId(), livemode: 'no' });
    const unprocessableBefore = await metric('unprocessable');
    expect((await sendSigned(raw)).status).toBe(200);
    const again = await sendSigned(raw);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true, duplicate: true, parked: 'unprocessable' });
    expect(await parkedFor(raw)).toHaveLength(1);
    expect(await metric('unprocessable')).toBe(unprocessableBefore + 2);
  });

  it('names what is wrong, and lists the event to operators with its id and a preview of the body', async () => {
    const id = eventId();
    const raw = JSON.stringify({ ...good, id, created: 'soon', livemode: 1 });
    await sendSigned(raw);
    const res = await api.admin('GET', '/admin/stripe-events/parked?reason=unprocessable&limit=200');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<{ eventId: string; problems: { path: string }[]; bodyPreview: string; bodyBytes: number }> };
    const mine = items.find((i) => i.eventId === id);
    expect(mine!.problems.map((p) => p.path).sort()).toEqual(['created', 'livemode']);
    expect(mine!.bodyPreview).toBe(raw);
    expect(mine!.bodyBytes).toBe(Buffer.byteLength(raw));
  });
});

describe('POST /webhooks/stripe with an event for a subscription we do not have', () => {
  const unknown = () => checkoutCompleted({ sessionId: 'cs_test_x', subscriptionId: `sub_${eventId().slice(9)}`, stripeSubscriptionId: 'sub_stripe_x', stripeCustomerId: 'cus_x' });

  it('answers 200, stores the event once and parks it as unmatched, also on redelivery', async () => {
    const event = unknown();
    const unmatchedBefore = await metric('unmatched');
    const res = await sendEvent(api, event);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false, parked: 'unmatched' });
    const again = await sendEvent(api, event);
    expect(again.status).toBe(200);
    expect(await stored(event.id)).toBe(1);
    const parked = await adminSql()<{ reason: string }[]>`select reason from stripe_events_parked where event_id = ${event.id}`;
    expect(parked).toEqual([{ reason: 'unmatched' }]);
    expect(await metric('unmatched')).toBe(unmatchedBefore + 1);
  });

  it('lists unmatched events to operators with the subscription named', async () => {
    const event = unknown();
    await sendEvent(api, event);
    const res = await api.admin('GET', '/admin/stripe-events/parked?reason=unmatched&limit=200');
    const { items } = (await res.json()) as { items: Array<{ eventId: string; eventType: string; problems: { message: string }[] }> };
    const mine = items.find((i) => i.eventId === event.id);
    expect(mine!.eventType).toBe('checkout.session.completed');
    expect(mine!.problems[0]!.message).toContain(event.data.object.client_reference_id);
  });
});

describe('npm run cli -- stripe parked', () => {
  it('lists parked events with their reason and problems, and answers bad flags with 64', async () => {
    const event = { ...ping(), livemode: 'maybe' };
    await sendSigned(JSON.stringify(event));
    const out: string[] = [];
    const err: string[] = [];
    const io = { sql: appSql(), out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    expect(await stripeCommand(['parked', '--reason', 'unprocessable', '--limit', '200'], io)).toBe(0);
    expect(out.join('')).toMatch(new RegExp(`unprocessable ${event.id} customer.created — livemode: `));
    expect(await stripeCommand(['parked', '--reason', 'lost'], io)).toBe(64);
    expect(err.join('')).toContain('usage:');
  });
});

describe('the signature timestamp', () => {
  it('rejects a signature dated beyond the tolerance in the future and stores nothing', async () => {
    const event = ping();
    const res = await sendEvent(api, event, { timestamp: Math.floor(Date.now() / 1000) + 3600 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('webhook_signature_invalid');
    expect(await stored(event.id)).toBe(0);
  });

  it('judges the timestamp the signature was verified with when the header repeats t=', async () => {
    const event = ping();
    const raw = JSON.stringify(event);
    const now = Math.floor(Date.now() / 1000);
    const future = signedWebhook(raw, undefined, now + 3600);
    const res = await api.request('POST', '/webhooks/stripe', { rawBody: raw, headers: { 'content-type': 'application/json', 'stripe-signature': `t=${now},${future}` } });
    expect(res.status).toBe(400);
    expect(await stored(event.id)).toBe(0);
  });

  it('accepts a signature a little ahead, within the tolerance (clock skew)', async () => {
    const event = ping();
    const res = await sendEvent(api, event, { timestamp: Math.floor(Date.now() / 1000) + 60 });
    expect(res.status).toBe(200);
  });
});
