/**
 * The one call that counts a batch: usage_ingest() (sql/00004_usage.sql, sql/00006), one statement
 * and so one database transaction of its own when given a pool. One round trip: events, counters,
 * rollups, adjustments and the COGS ledger posting all happen inside it.
 */
import type { Queryable } from '../shared/db.js';
import { LIMITS } from '../shared/limits.js';
import type { ValidatedEvent } from './batch-validation.js';
import { cogsAccountsArgument } from './cogs-posting.js';
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

export interface CountedBatch {
  /** By event index. */
  outcomes: Map<number, EventOutcome>;
}

interface Row {
  idx: number;
  status: EventStatus | null;
  reason: string | null;
  event_id: bigint | null;
  adjusted: boolean;
}

/** Counts `events` (distinct idempotency keys) for `appId`. */
export async function countEvents(sql: Queryable, appId: string, events: readonly ValidatedEvent[], now: Date): Promise<CountedBatch> {
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
  return countRows(sql, appId, eventRows, quantityRows, now);
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
export async function countRows(sql: Queryable, appId: string, events: EventRow[], quantities: QuantityRow[], now: Date): Promise<CountedBatch> {
  // The providers whose costs this batch may move (gauges may also move costs of their later
  // periods, always under the same dimensions): their ledger accounts, for the COGS posting.
  const providers = new Set<string>();
  for (const q of quantities) if (q.d.provider !== undefined) providers.add(q.d.provider);
  const rows = await sql<Row[]>`
    select * from usage_ingest(${appId}, ${sql.json(events as never)}, ${sql.json(quantities as never)}, ${now},
                               ${`${LIMITS.usageLatenessMaxMs} milliseconds`}::interval, ${`${LIMITS.usageFutureSkewMs} milliseconds`}::interval,
                               ${cogsAccountsArgument(providers)}::text::jsonb)`;
  const outcomes = new Map<number, EventOutcome>();
  for (const r of rows) {
    if (r.status === null) throw new Error(`usage_ingest left event ${r.idx} undecided`);
    outcomes.set(r.idx, { status: r.status, reason: r.reason, eventId: r.event_id, adjusted: r.adjusted });
  }
  return { outcomes };
}
