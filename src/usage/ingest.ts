/**
 * `POST /v1/usage`: validate the whole batch, check the teams, then count it in one Postgres
 * statement and transaction (events, counters, rollups, adjustments, COGS posting), which concurrent
 * batches of the same app may share (group commit, ingest-queue.ts). Each event gets a
 * result in request order:
 *   accepted   counted now (adjusted: counted into a closed period, as an adjustment)
 *   duplicate  this (app, idempotencyKey) was counted before with the same content: not counted again
 *   conflict   this key was used before with different content: not counted
 *   rejected   not counted and not remembered (timestamp outside the window, a closed period under
 *              the team's `reject` policy, or a counter at its ceiling); the same key may be sent again
 * Within one batch, a key's first occurrence is the one that counts.
 */
import type { Sql } from '../shared/db.js';
import { retryTransient, sqlState } from '../shared/db.js';
import { teamNows } from '../test-clocks/team-time.js';
import { LIMITS } from '../shared/limits.js';
import { AppError, type FieldError } from '../shared/errors.js';
import type { AppDirectory } from '../platform/app-directory.js';
import { validateBatch, type ValidatedEvent } from './batch-validation.js';
import { ensurePeriods } from './billing-periods.js';
import { onePer } from '../shared/group-commit.js';
import { ingestQueue } from './ingest-queue.js';
import { countEvents, type EventOutcome, type EventStatus } from './usage-store.js';

/** usage_ingest's SQLSTATE for "an event has no billing period yet". */
const PERIOD_MISSING = 'UG001';

const inWindow = (ms: number, now: Date) => ms >= now.getTime() - LIMITS.usageLatenessMaxMs && ms <= now.getTime() + LIMITS.usageFutureSkewMs;

export interface IngestCaller {
  appId: string;
  /** Set when the token was issued for one team: every event must then be for it. */
  teamId: string | null;
}

export interface EventResult {
  index: number;
  idempotencyKey: string;
  status: EventStatus;
  reason?: string;
  /** Our id of the stored event (for a duplicate or conflict: the one stored first), as a string. */
  eventId?: string;
  adjusted?: true;
}

export interface IngestResult {
  results: EventResult[];
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
}

export async function ingestUsage(sql: Sql, directory: AppDirectory, caller: IngestCaller, body: unknown): Promise<IngestResult> {
  const events = validateBatch(body);
  await checkTeams(directory, caller, events);

  // Within the batch a key counts once: its first occurrence goes to Postgres, the others follow it.
  const first = new Map<string, ValidatedEvent>();
  for (const e of events) if (!first.has(e.idempotencyKey)) first.set(e.idempotencyKey, e);
  const outcomes = await queueOf(sql).submit({ appId: caller.appId, events: [...first.values()] });

  const results = events.map((e): EventResult => {
    const original = first.get(e.idempotencyKey)!;
    const own = outcomes.get(original.index)!;
    return toResult(e, original === e ? own : followerOutcome(own, original.hash === e.hash));
  });
  const tally = (s: EventStatus) => results.filter((r) => r.status === s).length;
  return { results, accepted: tally('accepted'), duplicates: tally('duplicate'), conflicts: tally('conflict'), rejected: tally('rejected') };
}

/**
 * One ingest queue per pool (ingest-queue.ts). A call adds into the counter stripe of its lane,
 * offset per queue at random so that the api processes of a deployment mostly use stripes of their
 * own: concurrent calls of one process never wait on each other's counter rows, and a counter gets
 * few stripes (updated in place) rather than one per pooled connection.
 */
const queueOf = onePer((sql: Sql) => {
  const offset = Math.floor(Math.random() * LIMITS.usageCounterStripesMax);
  return ingestQueue((appId, events, lane) => countBatch(sql, appId, events, (offset + lane) % LIMITS.usageCounterStripesMax), {
    callsInFlightMax: LIMITS.usageIngestCallsInFlightMax,
    eventsPerCallMax: LIMITS.usageIngestEventsPerCallMax,
  });
});

/**
 * Counts distinct-key events of one app in one statement, so one database transaction: the events,
 * their counters and their queued COGS. The time windows are judged at the moment of the call.
 */
async function countBatch(sql: Sql, appId: string, events: ValidatedEvent[], stripe: number): Promise<Map<number, EventOutcome>> {
  const now = new Date();
  const count = async () => (await retryTransient(() => countEvents(sql, appId, events, now, stripe))).outcomes;
  try {
    return await count();
  } catch (err) {
    // The first event of a team in a new month: create its period on its own, then count again.
    if (sqlState(err) !== PERIOD_MISSING) throw err;
    // Windows are judged in each team's time (a team on a test clock: the clock's), as usage_ingest judges them.
    const nowOf = await teamNows(sql, events.map((e) => e.teamId), now);
    await ensurePeriods(sql, events.filter((e) => inWindow(e.timestampMs, nowOf(e.teamId))).map((e) => ({ teamId: e.teamId, at: new Date(e.timestampMs) })));
    return count();
  }
}

/** A repeated key in one batch: same content shares the first one's fate (counted once), other content conflicts. */
function followerOutcome(first: EventOutcome, sameContent: boolean): EventOutcome {
  if (!sameContent) return { status: 'conflict', reason: 'payload_differs', eventId: first.status === 'rejected' ? null : first.eventId, adjusted: false };
  if (first.status === 'accepted') return { ...first, status: 'duplicate', adjusted: false };
  return first;
}

function toResult(e: ValidatedEvent, o: EventOutcome): EventResult {
  return {
    index: e.index,
    idempotencyKey: e.idempotencyKey,
    status: o.status,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.eventId !== null ? { eventId: o.eventId.toString() } : {}),
    ...(o.adjusted ? { adjusted: true as const } : {}),
  };
}

/**
 * Every event's team must be the token's team (if it names one) and connected to the app. A batch
 * that breaks this is refused whole with 403, naming each offending event, and nothing is written:
 * half-counting a batch would leave the client to work out which half.
 */
async function checkTeams(directory: AppDirectory, caller: IngestCaller, events: readonly ValidatedEvent[]): Promise<void> {
  if (caller.teamId !== null) {
    const other = events.filter((e) => e.teamId !== caller.teamId);
    if (other.length > 0) {
      throw new AppError('team_mismatch', `The token is for team ${caller.teamId}; ${other.length} event(s) are for other teams`, {
        fields: other.map((e) => ({ path: `events.${e.index}.teamId`, message: `The token is for team ${caller.teamId}` })),
        details: { indexes: other.map((e) => e.index) },
      });
    }
  }
  const connected = await directory.connectedTeams(caller.appId, events.map((e) => e.teamId));
  const unconnected = events.filter((e) => !connected.has(e.teamId));
  if (unconnected.length > 0) {
    const fields: FieldError[] = unconnected.map((e) => ({ path: `events.${e.index}.teamId`, message: `Team ${e.teamId} is not connected to app ${caller.appId}` }));
    throw new AppError('team_not_connected', `${unconnected.length} event(s) are for teams not connected to app ${caller.appId}; nothing was written`, {
      fields,
      details: { indexes: unconnected.map((e) => e.index), teamIds: [...new Set(unconnected.map((e) => e.teamId))] },
    });
  }
}
