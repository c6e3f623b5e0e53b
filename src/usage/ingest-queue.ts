/**
 * Group commit for ingest: at most LIMITS.usageIngestCallsInFlightMax usage_ingest() calls run at
 * once per pool, and the batches of one app that arrive meanwhile wait and are counted together in
 * the next call: one statement, one database transaction, one COGS posting.
 *
 * Why: a call has a fixed cost (period lookups, advisory locks, the COGS ledger posting, the commit)
 * and concurrent calls wait on each other's team locks. Measured on the 2-core machine, four batches
 * of 100 in one call cost ~20 % less Postgres CPU per event than four calls.
 *
 * What a caller sees does not change: its batch is counted whole or not at all, and it gets its own
 * outcomes. Batches sharing a call never share an idempotency key (the call needs distinct keys; the
 * later batch must meet the earlier one's event as a duplicate or conflict). When a shared call
 * fails, each of its batches is counted again on its own, so one batch's failure is only its own.
 */
import type { ValidatedEvent } from './batch-validation.js';
import type { EventOutcome } from './usage-store.js';

export interface IngestQueueOptions {
  /** usage_ingest calls in flight at once; more batches wait and are grouped. */
  callsInFlightMax: number;
  /** Events one shared call may carry (a single batch may be larger). */
  eventsPerCallMax: number;
}

/** Counts distinct-key events of one app in one call; outcomes by each event's `index`. */
export type CountBatch = (appId: string, events: ValidatedEvent[]) => Promise<Map<number, EventOutcome>>;

interface Submission {
  appId: string;
  events: ValidatedEvent[];
  resolve: (outcomes: Map<number, EventOutcome>) => void;
  reject: (err: unknown) => void;
}

export class IngestQueue {
  private waiting: Submission[] = [];
  private inFlight = 0;

  constructor(
    private readonly count: CountBatch,
    private readonly options: IngestQueueOptions,
  ) {}

  /** Counts `events` (distinct idempotency keys) for `appId`, possibly together with other batches. */
  submit(appId: string, events: ValidatedEvent[]): Promise<Map<number, EventOutcome>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ appId, events, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.callsInFlightMax && this.waiting.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The oldest batch and the later ones of its app that fit beside it; the rest keep their places. */
  private take(): Submission[] {
    const [head, ...rest] = this.waiting;
    const group = [head!];
    const keys = new Set(head!.events.map((e) => e.idempotencyKey));
    let size = head!.events.length;
    const left: Submission[] = [];
    for (const s of rest) {
      const fits =
        s.appId === head!.appId && size + s.events.length <= this.options.eventsPerCallMax && s.events.every((e) => !keys.has(e.idempotencyKey));
      if (!fits) {
        left.push(s);
        continue;
      }
      group.push(s);
      size += s.events.length;
      for (const e of s.events) keys.add(e.idempotencyKey);
    }
    this.waiting = left;
    return group;
  }

  private async run(group: Submission[]): Promise<void> {
    if (group.length === 1) return settle(group[0]!, () => this.count(group[0]!.appId, group[0]!.events));
    // One numbering across the group (each event's index is only unique within its own batch).
    const merged: ValidatedEvent[] = [];
    for (const s of group) for (const e of s.events) merged.push({ ...e, index: merged.length });
    let outcomes: Map<number, EventOutcome>;
    try {
      outcomes = await this.count(group[0]!.appId, merged);
    } catch {
      // Which batch failed the call, and how, only a call of its own can tell.
      for (const s of group) await settle(s, () => this.count(s.appId, s.events));
      return;
    }
    let position = 0;
    for (const s of group) {
      const own = new Map<number, EventOutcome>();
      for (const e of s.events) own.set(e.index, outcomes.get(position++)!);
      s.resolve(own);
    }
  }
}

async function settle(s: Submission, count: () => Promise<Map<number, EventOutcome>>): Promise<void> {
  try {
    s.resolve(await count());
  } catch (err) {
    s.reject(err);
  }
}
