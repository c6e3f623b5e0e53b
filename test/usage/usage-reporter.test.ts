/** The SDK's batching reporter against a scripted service: when it sends, what it retries, what it drops. */
import { describe, expect, it } from 'vitest';
import { BillingApiError, BillingNetworkError, type UsageEvent, type UsageReport } from '../../sdk/src/index.js';
import { createUsageReporter, type SendBatch } from '../../sdk/src/usage-reporter.js';

const ok = (events: UsageEvent[], status: (e: UsageEvent) => 'accepted' | 'conflict' = () => 'accepted'): UsageReport => ({
  results: events.map((e, index) => ({ index, idempotencyKey: e.idempotencyKey, status: status(e) })),
  accepted: events.length,
  duplicates: 0,
  conflicts: 0,
  rejected: 0,
});

const input = (i: number) => ({ eventType: 'image.generated.v1', teamId: 'team_a', payload: { provider: 'openai', model: 'm', size: '1x1' }, idempotencyKey: `k${i}` });

function recorder(answer: (batch: UsageEvent[], call: number) => Promise<UsageReport>): { send: SendBatch; batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    send: (events) => {
      batches.push(events.map((e) => e.idempotencyKey));
      return answer(events, batches.length);
    },
  };
}

describe('the usage reporter', () => {
  it('fills in key, timestamp and source, and sends when maxBatch events are queued', async () => {
    const r = recorder(async (b) => ok(b));
    const reporter = createUsageReporter(r.send, { maxBatch: 3, flushIntervalMs: 60_000, source: 'tool/2' });
    const key = reporter.track({ eventType: 'image.generated.v1', teamId: 'team_a', payload: { provider: 'openai', model: 'm', size: '1x1' } });
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    reporter.track(input(1));
    expect(r.batches).toEqual([]);
    reporter.track(input(2));
    await reporter.flush();
    expect(r.batches).toEqual([[key, 'k1', 'k2']]);
    await reporter.shutdown();
  });

  it('sends what is queued every flushIntervalMs', async () => {
    const r = recorder(async (b) => ok(b));
    const reporter = createUsageReporter(r.send, { maxBatch: 100, flushIntervalMs: 20 });
    reporter.track(input(1));
    await new Promise((res) => setTimeout(res, 80));
    expect(r.batches).toEqual([['k1']]);
    await reporter.shutdown();
  });

  it('retries transient failures with the same keys until they go through, losing nothing', async () => {
    const r = recorder(async (b, call) => {
      if (call === 1) throw new BillingNetworkError('down');
      if (call === 2) throw new BillingApiError(503, 'dependency_unavailable', 'Postgres is unavailable');
      return ok(b);
    });
    const errors: unknown[] = [];
    const reporter = createUsageReporter(r.send, { retryBaseMs: 1, onError: (e) => errors.push(e) });
    reporter.track(input(1));
    reporter.track(input(2));
    const results = await reporter.flush();
    expect(r.batches).toEqual([['k1', 'k2'], ['k1', 'k2'], ['k1', 'k2']]);
    expect(results.map((x) => x.status)).toEqual(['accepted', 'accepted']);
    expect(errors).toHaveLength(2);
    expect(reporter.pending).toBe(0);
  });

  it('drops the events a 400 or 403 names, hands them to onDropped, and sends the rest again', async () => {
    const r = recorder(async (b, call) => {
      if (call === 1) throw new BillingApiError(400, 'validation_failed', 'bad', [{ path: 'events.1.payload.size', message: 'no' }]);
      if (call === 2) throw new BillingApiError(403, 'team_not_connected', 'no', [], undefined, { details: { indexes: [0] } });
      return ok(b);
    });
    const dropped: string[] = [];
    const reporter = createUsageReporter(r.send, { onDropped: (events) => dropped.push(...events.map((e) => e.idempotencyKey)) });
    [1, 2, 3].forEach((i) => reporter.track(input(i)));
    await reporter.flush();
    expect(r.batches).toEqual([['k1', 'k2', 'k3'], ['k1', 'k3'], ['k3']]);
    expect(dropped).toEqual(['k2', 'k1']);
  });

  it('halves a batch the service finds too large', async () => {
    const r = recorder(async (b) => {
      if (b.length > 2) throw new BillingApiError(413, 'payload_too_large', 'too large');
      return ok(b);
    });
    const reporter = createUsageReporter(r.send, { maxBatch: 8 });
    [1, 2, 3, 4, 5].forEach((i) => reporter.track(input(i)));
    await reporter.flush();
    expect(r.batches.filter((b) => b.length <= 2).flat()).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it('surfaces conflicts through onConflict and in flush() results', async () => {
    const r = recorder(async (b) => ok(b, (e) => (e.idempotencyKey === 'k2' ? 'conflict' : 'accepted')));
    const conflicts: string[] = [];
    const reporter = createUsageReporter(r.send, { onConflict: (res) => conflicts.push(res.idempotencyKey) });
    reporter.track(input(1));
    reporter.track(input(2));
    const results = await reporter.flush();
    expect(conflicts).toEqual(['k2']);
    expect(results.find((x) => x.idempotencyKey === 'k2')?.status).toBe('conflict');
  });

  it('returns what it could not send by the shutdown deadline, and refuses new events after', async () => {
    const r = recorder(async () => {
      throw new BillingNetworkError('down');
    });
    const reporter = createUsageReporter(r.send, { retryBaseMs: 5 });
    reporter.track(input(1));
    const { unsent } = await reporter.shutdown({ timeoutMs: 50 });
    expect(unsent.map((e) => e.idempotencyKey)).toEqual(['k1']);
    expect(() => reporter.track(input(2))).toThrow(/shut down/);
  });

  it('refuses to queue beyond maxQueue rather than lose events silently', () => {
    const reporter = createUsageReporter(async (b) => ok(b), { maxQueue: 2, maxBatch: 10, flushIntervalMs: 60_000 });
    reporter.track(input(1));
    reporter.track(input(2));
    expect(() => reporter.track(input(3))).toThrow(RangeError);
    void reporter.shutdown();
  });
});
