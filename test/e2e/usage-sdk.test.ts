/**
 * Usage end to end through the SDK against the api on a real socket: 10,000 events from four
 * concurrent reporters, 30 % of them sent twice with the same keys, over a network that loses
 * requests and answers, count exactly the deduplicated totals; a conflicting resend is reported
 * and not counted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createBillingClient, type BillingClient, type UsageEvent, type UsageEventResult } from '../../sdk/src/index.js';
import { appSql, startHttpApi, uniqueId, type TestApi } from '../helpers/context.js';
import { recountUsage } from '../../src/usage/recount.js';

let baseUrl: string;
let api: TestApi;
let appId: string;
let secret: string;
const teams = Array.from({ length: 12 }, () => uniqueId('team'));

beforeAll(async () => {
  ({ baseUrl, api } = await startHttpApi({ taskQueue: uniqueId('usage-e2e') }));
  appId = uniqueId('app');
  secret = ((await (await api.admin('POST', '/admin/apps', { appId, name: 'Usage e2e' })).json()) as { secret: string }).secret;
  for (const id of teams) {
    await api.deps.sql`insert into teams (id, name, kind, currency, request_hash) values (${id}, 'E2E team', 'shared', 'USD', '\\x00')`;
    await api.deps.sql`insert into team_apps (team_id, app_id) values (${id}, ${appId})`;
  }
});

/** A network that sometimes fails before the request leaves and sometimes loses the answer after the service processed it. */
function flakyFetch(seed: number): { fetch: typeof fetch; failures: () => number } {
  let s = seed;
  let failures = 0;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return {
    failures: () => failures,
    fetch: async (input, init) => {
      const r = random();
      if (r < 0.05) {
        failures++;
        throw new TypeError('fetch failed (before sending)');
      }
      const res = await fetch(input, init);
      if (r < 0.1) {
        failures++;
        await res.arrayBuffer();
        throw new TypeError('fetch failed (answer lost)');
      }
      return res;
    },
  };
}

function event(i: number): UsageEvent {
  const teamId = teams[i % teams.length]!;
  const timestamp = new Date(Date.now() - 60_000 - (i % 600) * 1_000).toISOString();
  const base = { idempotencyKey: `e2e-${i}`, teamId, timestamp, source: 'usage-e2e/1.0.0' };
  switch (i % 4) {
    case 0: return { ...base, eventType: 'llm.tokens.v1', payload: { provider: 'openai', model: i % 8 === 0 ? 'gpt-5' : 'gpt-5-mini', inputTokens: 100 + (i % 97), outputTokens: i % 31 } };
    case 1: return { ...base, eventType: 'bandwidth.bytes.v1', payload: { provider: 'cloudflare', direction: i % 2 === 0 ? 'ingress' : 'egress', bytes: 1000 + i } };
    case 2: return { ...base, eventType: 'image.generated.v1', payload: { provider: 'openai', model: 'gpt-image-1', size: '1024x1024' } };
    default: return { ...base, eventType: 'storage.bytes.v1', payload: { provider: 'aws-s3', bytes: (i * 7919) % 5_000_000 } };
  }
}

function expectedTotals(events: UsageEvent[]): Map<string, number> {
  const totals = new Map<string, number>();
  const add = (meter: string, n: number) => totals.set(meter, (totals.get(meter) ?? 0) + n);
  for (const e of events) {
    const p = e.payload as Record<string, number>;
    if (e.eventType === 'llm.tokens.v1') {
      add('llm.input_tokens', p.inputTokens!);
      add('llm.output_tokens', p.outputTokens!);
    } else if (e.eventType === 'bandwidth.bytes.v1') add('bandwidth.bytes', p.bytes!);
    else if (e.eventType === 'image.generated.v1') add('image.generations', 1);
  }
  return totals;
}

async function countedTotals(billing: BillingClient): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const teamId of teams) {
    const usage = await billing.getUsage(teamId);
    for (const row of usage.rows) if (row.meter !== 'storage.bytes') totals.set(row.meter, (totals.get(row.meter) ?? 0) + Number(row.quantity));
  }
  return totals;
}

describe('usage through the SDK', () => {
  it('counts 10,000 events exactly once across concurrent reporters, 30 % resends and a lossy network', async () => {
    const events = Array.from({ length: 10_000 }, (_, i) => event(i));
    const resent = events.filter((_, i) => i % 10 < 3);
    const senders = [0, 1, 2, 3].map((n) => {
      const net = flakyFetch(n + 11);
      const billing = createBillingClient({ appId, secret, baseUrl, fetch: net.fetch });
      const dropped: UsageEvent[] = [];
      const reporter = billing.usageReporter({ maxBatch: 100, flushIntervalMs: 50, retryBaseMs: 5, retryMaxMs: 50, onDropped: (e) => dropped.push(...e) });
      return { reporter, net, dropped };
    });
    // Each sender tracks a quarter of the events; the resends go to another sender than the original.
    events.forEach((e, i) => senders[i % 4]!.reporter.track(e));
    resent.forEach((e, i) => senders[(i + 1) % 4]!.reporter.track(e));
    const results = (await Promise.all(senders.map((s) => s.reporter.flush()))).flat();
    const unsent = await Promise.all(senders.map((s) => s.reporter.shutdown()));

    expect(unsent.flatMap((u) => u.unsent)).toEqual([]);
    expect(senders.flatMap((s) => s.dropped)).toEqual([]);
    expect(senders.reduce((n, s) => n + s.net.failures(), 0)).toBeGreaterThan(0);
    const byKey = new Map<string, UsageEventResult[]>();
    for (const r of results) byKey.set(r.idempotencyKey, [...(byKey.get(r.idempotencyKey) ?? []), r]);
    expect(byKey.size).toBe(10_000);
    expect(results.filter((r) => r.status === 'conflict' || r.status === 'rejected')).toEqual([]);

    const billing = createBillingClient({ appId, secret, baseUrl });
    expect(await countedTotals(billing)).toEqual(expectedTotals(events));
    const recount = await recountUsage(appSql(), teams);
    expect(recount.events).toBe(10_000);
    expect(recount.mismatches).toEqual([]);
  });

  it('reports a conflicting resend and does not count it', async () => {
    const billing = createBillingClient({ appId, secret, baseUrl });
    const before = await countedTotals(billing);
    const original = event(0);
    const changed = { ...original, payload: { ...(original.payload as object), inputTokens: 999_999 } } as UsageEvent;
    const report = await billing.reportUsage([changed]);
    expect(report.results).toEqual([expect.objectContaining({ idempotencyKey: original.idempotencyKey, status: 'conflict', reason: 'payload_differs' })]);

    const conflicts: UsageEventResult[] = [];
    const reporter = billing.usageReporter({ onConflict: (r) => conflicts.push(r) });
    reporter.track(changed);
    await reporter.shutdown();
    expect(conflicts.map((c) => c.idempotencyKey)).toEqual([original.idempotencyKey]);
    expect(await countedTotals(billing)).toEqual(before);
  });
});
