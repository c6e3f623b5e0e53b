/**
 * Fuzzing POST /v1/usage with 5,000 generated bodies — wrong types, huge and negative numbers, bad
 * timestamps, unknown event types, deep JSON, strings Postgres cannot store, unconnected teams, raw
 * garbage — the service never answers 5xx, and stores exactly the events it reported as accepted:
 * a refused batch writes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adminSql, uniqueId } from '../helpers/context.js';
import { LIMITS } from '../../src/shared/limits.js';
import { usageApp } from './fixtures.js';

const u = await usageApp({ teams: 3 });
const stranger = uniqueId('team');
const NUM_RUNS = 5_000;

const now = Date.now();
const validTimestamp = fc.integer({ min: now - 3_600_000, max: now }).map((ms) => new Date(ms).toISOString());
const timestamp = fc.oneof(
  { weight: 6, arbitrary: validTimestamp },
  fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()), // out of the window, mostly
  fc.constantFrom('2026-02-30T10:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01', '2026-01-01T00:00:00', 'yesterday', '', '2026-01-01T24:00:00Z', '+275760-09-13T00:00:00Z'),
  fc.string(),
  fc.integer(),
  fc.constant(null),
);

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('a\u0000b', 'x\ud800', '\udfff', '😀', ''),
  fc.double(),
  fc.constantFrom(2 ** 53, 2 ** 60, 1e300, -1, -0, 1.5, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
);

const amount = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 1_000_000 }) }, hostile);

const deep = fc.integer({ min: 1, max: LIMITS.usagePayloadDepthMax + 6 }).map((depth) => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { n: v } : [v];
  return v;
});

const payload = fc.oneof(
  { weight: 4, arbitrary: fc.record({ provider: fc.constantFrom('openai', 'anthropic'), model: fc.constantFrom('gpt-5', 'm'), inputTokens: amount, outputTokens: amount }, { requiredKeys: ['provider', 'model', 'inputTokens'] }) },
  { weight: 2, arbitrary: fc.record({ provider: fc.oneof(fc.constant('aws-s3'), hostile), bytes: amount }) },
  fc.record({ provider: fc.constant('cloudflare'), direction: fc.oneof(fc.constantFrom('ingress', 'egress'), hostile), bytes: amount }),
  fc.record({ provider: fc.constant('openai'), model: fc.oneof(fc.constant('img'), hostile), size: fc.oneof(fc.constantFrom('1024x1024', '0x1', 'big'), hostile) }),
  fc.record({ provider: fc.constant('openai'), model: fc.constant('gpt-5'), inputTokens: fc.nat(), outputTokens: fc.nat(), extra: deep }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  hostile,
);

const event = fc.record(
  {
    idempotencyKey: fc.oneof({ weight: 8, arbitrary: fc.uuid() }, fc.constantFrom('', 'has space', 'k'.repeat(256), 'dup-key-1', 'dup-key-2'), hostile),
    eventType: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('llm.tokens.v1', 'storage.bytes.v1', 'bandwidth.bytes.v1', 'image.generated.v1') }, fc.constantFrom('llm.tokens.v2', 'unknown'), hostile),
    timestamp,
    teamId: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...u.teamIds) }, fc.constant(stranger), fc.constantFrom('x', 'no spaces allowed'), hostile),
    payload,
    source: fc.oneof({ weight: 8, arbitrary: fc.constant('fuzz/1.0.0') }, fc.constantFrom('', 's'.repeat(201), 'tab\there'), hostile),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: ['idempotencyKey', 'eventType', 'timestamp', 'teamId', 'payload', 'source'] },
);

const validEvent = fc.record({
  idempotencyKey: fc.uuid(),
  eventType: fc.constant('image.generated.v1'),
  timestamp: validTimestamp,
  teamId: fc.constantFrom(...u.teamIds, stranger),
  payload: fc.constant({ provider: 'openai', model: 'img', size: '512x512' }),
  source: fc.constant('fuzz/1.0.0'),
});

const body = fc.oneof(
  { weight: 2, arbitrary: fc.record({ events: fc.array(validEvent, { minLength: 1, maxLength: 8 }) }).map((b) => JSON.stringify(b)) },
  { weight: 10, arbitrary: fc.record({ events: fc.array(event, { minLength: 1, maxLength: 12 }) }).map((b) => JSON.stringify(b)) },
  fc.record({ events: fc.array(event, { maxLength: 3 }), more: fc.jsonValue({ maxDepth: 2 }) }).map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('{"events": [', '{"events": [{}]}', 'null', '[]', '{"events": null}'),
);

describe('fuzzing POST /v1/usage', () => {
  it(`never answers 5xx and stores exactly what it reports as accepted, over ${NUM_RUNS} bodies`, async () => {
    const token = await u.token();
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const res = await u.api.request('POST', '/v1/usage', { rawBody: raw, headers: { 'content-type': 'application/json' }, token });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const answer = (await res.json()) as { results?: Array<{ idempotencyKey: string; status: string }>; code?: string };
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) {
          const sent = (JSON.parse(raw) as { events: unknown[] }).events;
          expect(answer.results).toHaveLength(sent.length);
          for (const r of answer.results!) {
            expect(['accepted', 'duplicate', 'conflict', 'rejected']).toContain(r.status);
            if (r.status === 'accepted') accepted.add(r.idempotencyKey);
          }
        } else {
          expect(answer.code).toEqual(expect.any(String));
        }
      }),
      { numRuns: NUM_RUNS, seed: 20261121 },
    );
    const stored = await adminSql()<{ idempotency_key: string }[]>`select idempotency_key from usage_events where app_id = ${u.appId}`;
    expect(new Set(stored.map((r) => r.idempotency_key))).toEqual(accepted);
    // The generators must reach every outcome, or the property proves little.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 403]));
    expect(accepted.size).toBeGreaterThan(100);
  }, 300_000);
});
