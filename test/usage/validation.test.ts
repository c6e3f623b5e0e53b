/** Malformed batches are refused whole, naming every bad event and field; limits are enforced by name. */
import { describe, expect, it } from 'vitest';
import { adminSql } from '../helpers/context.js';
import { LIMITS } from '../../src/shared/limits.js';
import { iso, key, llmEvent, usageApp } from './fixtures.js';

const u = await usageApp({ teams: 1 });
const team = u.teamIds[0]!;

async function stored(keys: string[]): Promise<number> {
  const [row] = await adminSql()<{ n: number }[]>`select count(*)::int as n from usage_events where app_id = ${u.appId} and idempotency_key = any(${keys})`;
  return row!.n;
}

describe('a malformed batch', () => {
  it('is refused with 400 validation_failed naming every bad event by index and field, and nothing is written', async () => {
    const good = llmEvent(team);
    const wrongTypes = { ...llmEvent(team), payload: { provider: 'openai', model: 'gpt-5', inputTokens: '12', outputTokens: -1 } };
    const unknownType = { ...llmEvent(team), eventType: 'llm.tokens.v9' };
    const badTimestamp = { ...llmEvent(team), timestamp: '2026-02-30T10:00:00Z' };
    const extraField = { ...llmEvent(team), payload: { ...llmEvent(team).payload, inputTokenz: 5 } };
    const missing = { eventType: 'llm.tokens.v1', teamId: team, payload: {}, source: 's' };
    const huge = { ...llmEvent(team), payload: { ...llmEvent(team).payload, inputTokens: 2 ** 60 } };
    const fractional = { ...llmEvent(team), payload: { ...llmEvent(team).payload, outputTokens: 1.5 } };
    const { status, body } = await u.post([good, wrongTypes, unknownType, badTimestamp, extraField, missing, huge, fractional]);
    expect(status).toBe(400);
    expect(body.code).toBe('validation_failed');
    const paths = body.errors!.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'events.1.payload.inputTokens',
        'events.1.payload.outputTokens',
        'events.2.eventType',
        'events.3.timestamp',
        'events.4.payload.inputTokenz',
        'events.5.idempotencyKey',
        'events.5.timestamp',
        'events.5.payload.provider',
        'events.6.payload.inputTokens',
        'events.7.payload.outputTokens',
      ]),
    );
    expect(paths.some((p) => p.startsWith('events.0.'))).toBe(false);
    expect(await stored([good.idempotencyKey])).toBe(0);
  });

  it('is refused when it is not {"events": [...]}, is empty, or has unknown top-level fields', async () => {
    for (const body of [{}, { events: [] }, { events: 'x' }, { events: [llmEvent(team)], extra: 1 }, [llmEvent(team)], null, 'events']) {
      const res = await u.api.request('POST', '/v1/usage', { rawBody: JSON.stringify(body), headers: { 'content-type': 'application/json' }, token: await u.token() });
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('validation_failed');
    }
  });

  it('answers a body that is not JSON with 400 malformed_json', async () => {
    const res = await u.api.request('POST', '/v1/usage', { rawBody: '{"events": [', headers: { 'content-type': 'application/json' }, token: await u.token() });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('malformed_json');
  });

  it('refuses keys that are too long or not printable ASCII', async () => {
    const long = { ...llmEvent(team), idempotencyKey: 'k'.repeat(LIMITS.idempotencyKeyLengthMax + 1) };
    const spaced = { ...llmEvent(team), idempotencyKey: 'has space' };
    const { status, body } = await u.post([long, spaced]);
    expect(status).toBe(400);
    expect(body.errors!.map((e) => e.path)).toEqual(['events.0.idempotencyKey', 'events.1.idempotencyKey']);
  });

  it('refuses payloads nested deeper than LIMITS.usagePayloadDepthMax and strings Postgres cannot store', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < LIMITS.usagePayloadDepthMax + 2; i++) deep = { d: deep };
    const nested = { ...llmEvent(team), payload: { ...llmEvent(team).payload, extra: deep } };
    const nul = { ...llmEvent(team), source: 'a\u0000b' };
    const surrogate = { ...llmEvent(team), payload: { ...llmEvent(team).payload, model: 'x\ud800' } };
    const { status, body } = await u.post([nested, nul, surrogate]);
    expect(status).toBe(400);
    expect(body.errors!.map((e) => e.path)).toEqual(['events.0.payload.extra.d.d.d.d.d.d.d', 'events.1.source', 'events.2.payload.model']);
  });
});

describe('limits', () => {
  it(`refuses more than LIMITS.usageBatchEventsMax (${LIMITS.usageBatchEventsMax}) events`, async () => {
    const events = Array.from({ length: LIMITS.usageBatchEventsMax + 1 }, () => llmEvent(team));
    const { status, body } = await u.post(events);
    expect(status).toBe(400);
    expect(body.errors![0]!.path).toBe('events');
  });

  it('accepts exactly LIMITS.usageBatchEventsMax events', async () => {
    const events = Array.from({ length: LIMITS.usageBatchEventsMax }, () => llmEvent(team, { inputTokens: 1 }));
    const { status, body } = await u.post(events);
    expect(status).toBe(200);
    expect(body.accepted).toBe(LIMITS.usageBatchEventsMax);
  });

  it('refuses a body over LIMITS.requestBodyBytesMax with 413 payload_too_large', async () => {
    const source = 's'.repeat(LIMITS.usageSourceLengthMax);
    const events = Array.from({ length: Math.ceil(LIMITS.requestBodyBytesMax / 300) + 10 }, () => ({ ...llmEvent(team), source, idempotencyKey: key('x'.repeat(40)) }));
    const res = await u.api.request('POST', '/v1/usage', { rawBody: JSON.stringify({ events }), headers: { 'content-type': 'application/json' }, token: await u.token() });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('payload_too_large');
  });

  it('rejects events older than LIMITS.usageLatenessMaxMs or further ahead than LIMITS.usageFutureSkewMs, and counts the rest', async () => {
    const now = Date.now();
    const old = llmEvent(team, { at: now - LIMITS.usageLatenessMaxMs - 60_000 });
    const future = llmEvent(team, { at: now + LIMITS.usageFutureSkewMs + 60_000 });
    const slightlyAhead = llmEvent(team, { at: now + LIMITS.usageFutureSkewMs - 60_000 });
    const { status, body } = await u.post([old, future, slightlyAhead]);
    expect(status).toBe(200);
    expect(body.results.map((r) => [r.status, r.reason])).toEqual([
      ['rejected', 'timestamp_too_old'],
      ['rejected', 'timestamp_in_future'],
      ['accepted', undefined],
    ]);
    expect(await stored([old.idempotencyKey, future.idempotencyKey])).toBe(0);
  });

  it('accepts timestamps with an offset and a fraction finer than milliseconds', async () => {
    const at = new Date(Date.now() - 3_600_000);
    const local = `${iso(at.getTime() + 2 * 3_600_000).slice(0, 19)}.123456+02:00`;
    const { status, body } = await u.post([{ ...llmEvent(team), timestamp: local }]);
    expect(status).toBe(200);
    expect(body.results[0]!.status).toBe('accepted');
  });
});
