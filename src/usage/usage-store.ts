/**
 * The one call that counts a batch: usage_ingest() in sql/00004_usage.sql, in the caller's
 * transaction. One round trip: events, periods, counters, rollups, adjustments and the cost changes
 * the COGS posting needs all happen inside it.
 */
import type { Queryable } from '../shared/db.js';
import { LIMITS } from '../shared/limits.js';
import type { ValidatedEvent } from './batch-validation.js';
import { METERS } from './meters.js';

export type EventStatus = 'accepted' | 'duplicate' | 'conflict' | 'rejected';

export interface EventOutcome {
  status: EventStatus;
  /** Why an event was rejected or conflicts: timestamp_too_old, timestamp_in_future, period_closed, payload_differs. */
  reason: string | null;
  /** The stored event: the new one, or for a duplicate/conflict the one stored first. */
  eventId: bigint | null;
  /** Counted into a closed period as an adjustment (the team's `adjust` late-usage policy). */
  adjusted: boolean;
}

/** A counter whose exact cumulative cost moved in this batch (decimal strings, USD). */
export interface CostChange {
  counterId: bigint;
  teamId: string;
  periodId: bigint;
  meter: string;
  provider: string;
  model: string | null;
  costBefore: string;
  costAfter: string;
}

export interface CountedBatch {
  /** By event index. */
  outcomes: Map<number, EventOutcome>;
  costs: CostChange[];
  /** Number of this batch's COGS posting; null when no cost moved. */
  postingSeq: bigint | null;
}

interface Row {
  kind: 'event' | 'cost';
  idx: number | null;
  status: EventStatus | null;
  reason: string | null;
  event_id: bigint | null;
  adjusted: boolean | null;
  counter_id: bigint | null;
  team_id: string | null;
  period_id: bigint | null;
  meter: string | null;
  provider: string | null;
  model: string | null;
  cost_before: string | null;
  cost_after: string | null;
  posting_seq: bigint | null;
}

/** Counts `events` (distinct idempotency keys) for `appId`. */
export async function countEvents(tx: Queryable, appId: string, events: readonly ValidatedEvent[], now: Date): Promise<CountedBatch> {
  const eventRows = events.map((e) => ({
    i: e.index,
    k: e.idempotencyKey,
    t: e.eventType,
    team: e.teamId,
    at: new Date(e.timestampMs).toISOString(),
    h: e.hash,
    p: e.payload,
    s: e.source,
  }));
  const quantityRows = events.flatMap((e, position) =>
    e.quantities.map((q) => ({ e: position, m: q.meter, a: METERS[q.meter].aggregation, q: q.quantity, d: q.dimensions, u: q.uniqueValue ?? null })),
  );
  return countRows(tx, appId, eventRows, quantityRows, now);
}

export interface EventRow {
  i: number;
  k: string;
  t: string;
  team: string;
  at: string;
  h: string;
  p: Record<string, unknown>;
  s: string;
}

export interface QuantityRow {
  /** Position (0-based) in the event rows of the same call. */
  e: number;
  m: string;
  a: string;
  q: number | string;
  d: Record<string, string>;
  u: string | null;
}

/** The raw call, also used by tests to count meters no event type uses (every aggregation). */
export async function countRows(tx: Queryable, appId: string, events: EventRow[], quantities: QuantityRow[], now: Date): Promise<CountedBatch> {
  const rows = await tx<Row[]>`
    select * from usage_ingest(${appId}, ${tx.json(events as never)}, ${tx.json(quantities as never)}, ${now},
                               ${`${LIMITS.usageLatenessMaxMs} milliseconds`}::interval, ${`${LIMITS.usageFutureSkewMs} milliseconds`}::interval)`;
  const outcomes = new Map<number, EventOutcome>();
  const costs: CostChange[] = [];
  let postingSeq: bigint | null = null;
  for (const r of rows) {
    if (r.kind === 'event') {
      if (r.status === null) throw new Error(`usage_ingest left event ${r.idx} undecided`);
      outcomes.set(r.idx!, { status: r.status, reason: r.reason, eventId: r.event_id, adjusted: r.adjusted ?? false });
    } else {
      postingSeq = r.posting_seq;
      costs.push({
        counterId: r.counter_id!,
        teamId: r.team_id!,
        periodId: r.period_id!,
        meter: r.meter!,
        provider: r.provider!,
        model: r.model,
        costBefore: r.cost_before!,
        costAfter: r.cost_after!,
      });
    }
  }
  return { outcomes, costs, postingSeq };
}
