/**
 * The one call that counts a batch: usage_ingest() (sql/functions/usage-ingest.sql), one statement
 * and so one database transaction of its own when given a pool. One round trip: events, counters,
 * rollups, adjustments and the batch's COGS (queued for the ledger, src/usage/cogs-fold.ts) all
 * happen inside it.
 */
import { isTransaction, sqlState, type Queryable } from '../shared/db.js';
import { LIMITS } from '../shared/limits.js';
import type { ValidatedEvent } from './batch-validation.js';
import { isAdditive, METERS } from '../pricing/meters.js';

export type EventStatus = 'accepted' | 'duplicate' | 'conflict' | 'rejected';

/** usage_ingest's SQLSTATE for "a counter stripe would pass its ceiling": count again, deciding event by event. */
const COUNTER_CEILING = 'UG003';
/** Attempts in exact mode: another api process adding to the same stripe at once can only be seen by trying again. */
const EXACT_ATTEMPTS_MAX = 3;

export interface EventOutcome {
  status: EventStatus;
  /** Why an event was rejected or conflicts: timestamp_too_old, timestamp_in_future, period_closed, counter_limit, payload_differs. */
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

/**
 * Counts `events` (distinct idempotency keys) for `appId` into counter stripe `stripe` (the caller's
 * group-commit lane, 0 to LIMITS.usageCounterStripesMax - 1).
 */
export async function countEvents(sql: Queryable, appId: string, events: readonly ValidatedEvent[], now: Date, stripe: number): Promise<CountedBatch> {
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
    e.quantities.map((q) => quantityRow(position, q.meter, q.quantity, q.dimensions, q.uniqueValue ?? null)),
  );
  return countRows(sql, appId, eventRows, quantityRows, now, stripe);
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
  /** Sum and count meters: the ceiling of one counter stripe. */
  x: number | null;
}

/** The quantity row of a registered meter, with its stripe ceiling. */
export function quantityRow(position: number, meter: keyof typeof METERS, quantity: number | string, dimensions: Record<string, string>, unique: string | null): QuantityRow {
  const m = METERS[meter];
  return { e: position, m: m.code, a: m.aggregation, q: quantity, d: dimensions, u: unique, x: isAdditive(m.aggregation) ? m.stripeQuantityMax : null };
}

/**
 * The raw call, also used by tests to count meters no event type uses (every aggregation). A batch
 * that would take a counter stripe past its ceiling is counted again in exact mode, where the
 * events that do not fit are rejected (counter_limit) and the others count.
 */
export async function countRows(sql: Queryable, appId: string, events: EventRow[], quantities: QuantityRow[], now: Date, stripe: number): Promise<CountedBatch> {
  for (let attempt = 0; ; attempt++) {
    try {
      const exact = attempt > 0;
      // In the caller's transaction, a failed attempt must not abort it: each attempt is a savepoint.
      return await (isTransaction(sql)
        ? sql.savepoint((sp) => ingestCall(sp, appId, events, quantities, now, stripe, exact))
        : ingestCall(sql, appId, events, quantities, now, stripe, exact));
    } catch (err) {
      if (sqlState(err) !== COUNTER_CEILING || attempt + 1 >= EXACT_ATTEMPTS_MAX) throw err;
    }
  }
}

async function ingestCall(sql: Queryable, appId: string, events: EventRow[], quantities: QuantityRow[], now: Date, stripe: number, exact: boolean): Promise<CountedBatch> {
  const rows = await sql<Row[]>`
    select * from usage_ingest(${appId}, ${sql.json(events as never)}, ${sql.json(quantities as never)}, ${now},
                               ${`${LIMITS.usageLatenessMaxMs} milliseconds`}::interval, ${`${LIMITS.usageFutureSkewMs} milliseconds`}::interval,
                               ${stripe}::smallint, ${exact})`;
  const outcomes = new Map<number, EventOutcome>();
  for (const r of rows) {
    if (r.status === null) throw new Error(`usage_ingest left event ${r.idx} undecided`);
    outcomes.set(r.idx, { status: r.status, reason: r.reason, eventId: r.event_id, adjusted: r.adjusted });
  }
  return { outcomes };
}
