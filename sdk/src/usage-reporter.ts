/**
 * A batching usage reporter: `track()` queues an event (giving it its idempotency key at once), and
 * the reporter sends batches when `maxBatch` events are queued, every `flushIntervalMs`, and on
 * `flush()` / `shutdown()`. One batch is in flight at a time, head of the queue first.
 *
 * Nothing queued is lost to a transient failure: a batch leaves the queue only when the service has
 * answered for it. Network errors, timeouts, 5xx and 429 — and also 401/403 for the whole batch, which
 * a secret rotation or a config fix resolves — are retried with the same keys and exponential
 * backoff, so a request that reached the service before its answer was lost is counted once. Events
 * the service names as bad (400 validation_failed, 403 team_not_connected / team_mismatch) are
 * dropped and handed to `onDropped`; the rest of their batch is sent again. Conflicts and rejections
 * come back through `onConflict` / `onRejected` and in flush()'s results.
 */
import { BillingApiError } from './errors.js';
import type { UsageEvent, UsageEventInput, UsageEventResult, UsageReport } from './types.js';

/** The service's LIMITS.usageBatchEventsMax. */
export const USAGE_BATCH_MAX = 1000;

export interface UsageReporterOptions {
  /** Events per request, 1–1000; default 100. */
  maxBatch?: number;
  /** Send what is queued at least this often; default 1000. */
  flushIntervalMs?: number;
  /** Events the queue holds at most; track() throws a RangeError beyond. Default 100,000. */
  maxQueue?: number;
  /** First retry delay, doubled per attempt up to retryMaxMs (with jitter). Defaults 200 and 30,000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** `source` of events tracked without one; default `billing-sdk`. */
  source?: string;
  onConflict?: (result: UsageEventResult, event: UsageEvent) => void;
  onRejected?: (result: UsageEventResult, event: UsageEvent) => void;
  /** Events the service refused as malformed or for a team it may not report for: not sent again. */
  onDropped?: (events: UsageEvent[], error: BillingApiError) => void;
  /** A failed attempt that will be retried. */
  onError?: (error: unknown, attempt: number) => void;
}

export interface UsageReporter {
  /** Queues an event and returns its idempotency key (generated unless given). */
  track(event: UsageEventInput): string;
  /** Sends everything queued; resolves with the results of what it sent once the queue is empty. */
  flush(): Promise<UsageEventResult[]>;
  /**
   * Stops the timer, sends what is queued until `timeoutMs` (default 10,000) has passed, and
   * returns what could not be sent, for the app to keep and track again later.
   */
  shutdown(opts?: { timeoutMs?: number }): Promise<{ unsent: UsageEvent[] }>;
  /** Events queued and not yet answered for. */
  readonly pending: number;
}

/** Sends one batch (one request, no retries of its own). */
export type SendBatch = (events: UsageEvent[]) => Promise<UsageReport>;

const EVENT_PATH = /^events\.(\d+)(\.|$)/;

/** Indexes of a batch that an API error names (`events.3.payload.x`, or details.indexes). */
function namedIndexes(err: BillingApiError): Set<number> {
  const named = new Set<number>();
  for (const e of err.errors) {
    const m = EVENT_PATH.exec(e.path);
    if (m) named.add(Number(m[1]));
  }
  const details = (err.body as { details?: { indexes?: unknown } } | undefined)?.details;
  if (Array.isArray(details?.indexes)) for (const i of details.indexes) if (typeof i === 'number') named.add(i);
  return named;
}

export function createUsageReporter(send: SendBatch, options: UsageReporterOptions = {}): UsageReporter {
  const maxBatch = options.maxBatch ?? 100;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1 && maxBatch <= USAGE_BATCH_MAX)) throw new RangeError(`maxBatch must be an integer from 1 to ${USAGE_BATCH_MAX}`);
  const maxQueue = options.maxQueue ?? 100_000;
  const retryBaseMs = options.retryBaseMs ?? 200;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const source = options.source ?? 'billing-sdk';

  const queue: UsageEvent[] = [];
  let draining: Promise<void> | null = null;
  // Results are kept only while a flush() waits for them.
  let flushing = 0;
  let collected: UsageEventResult[] = [];
  let stopped = false;
  let deadline = Infinity;
  let wake: (() => void) | null = null;

  const timer = setInterval(() => {
    if (queue.length > 0) void drain();
  }, options.flushIntervalMs ?? 1000);
  (timer as { unref?: () => void }).unref?.();

  /** Waits `ms`, or less if shutdown's deadline comes first. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(0, Math.min(ms, deadline - Date.now())));
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    }).finally(() => (wake = null));

  async function sendHead(): Promise<void> {
    let size = Math.min(maxBatch, queue.length);
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      const batch = queue.slice(0, size);
      try {
        const report = await send(batch);
        queue.splice(0, batch.length);
        for (const r of report.results) {
          const event = batch[r.index]!;
          if (r.status === 'conflict') options.onConflict?.(r, event);
          if (r.status === 'rejected') options.onRejected?.(r, event);
        }
        if (flushing > 0) collected.push(...report.results);
        return;
      } catch (err) {
        if (err instanceof BillingApiError && err.status === 413 && size > 1) {
          size = Math.ceil(size / 2); // too large a body: send it in halves
          continue;
        }
        const named = err instanceof BillingApiError && (err.status === 400 || err.status === 403) ? namedIndexes(err) : new Set<number>();
        if (named.size > 0 || (err instanceof BillingApiError && (err.code === 'validation_failed' || err.status === 413))) {
          // The service named what it refuses (or refused the only event): drop that, resend the rest.
          const dropped = named.size > 0 ? batch.filter((_, i) => named.has(i)) : batch;
          const keep = new Set(dropped);
          for (let i = batch.length - 1; i >= 0; i--) if (keep.has(batch[i]!)) queue.splice(i, 1);
          options.onDropped?.(dropped, err as BillingApiError);
          return;
        }
        options.onError?.(err, attempt);
        await sleep(Math.min(retryMaxMs, retryBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
      }
    }
  }

  function drain(): Promise<void> {
    draining ??= (async () => {
      try {
        while (queue.length > 0 && Date.now() < deadline) await sendHead();
      } finally {
        draining = null;
      }
    })();
    return draining;
  }

  return {
    track(input) {
      if (stopped) throw new Error('The usage reporter was shut down');
      if (queue.length >= maxQueue) throw new RangeError(`The usage queue is full (${maxQueue} events); the service may be unreachable`);
      const event: UsageEvent = {
        ...input,
        idempotencyKey: input.idempotencyKey ?? globalThis.crypto.randomUUID(),
        timestamp: input.timestamp ?? new Date().toISOString(),
        source: input.source ?? source,
      };
      queue.push(event);
      if (queue.length >= maxBatch) void drain();
      return event.idempotencyKey;
    },
    async flush() {
      flushing++;
      const before = collected.length;
      try {
        while (queue.length > 0 && Date.now() < deadline) await drain();
        return collected.slice(before);
      } finally {
        if (--flushing === 0) collected = [];
      }
    },
    async shutdown({ timeoutMs = 10_000 } = {}) {
      stopped = true;
      clearInterval(timer);
      deadline = Date.now() + timeoutMs;
      wake?.();
      await this.flush();
      await draining;
      return { unsent: queue.splice(0) };
    },
    get pending() {
      return queue.length;
    },
  };
}
