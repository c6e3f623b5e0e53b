/**
 * Parked Stripe events (sql/00007_stripe_events_parked.sql): signed events we acknowledge but cannot
 * act on, kept for operators. Parking is idempotent, so Stripe's redeliveries park an event once.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../shared/db.js';
import type { FieldError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { toStorableText } from '../shared/text-hygiene.js';

export type ParkReason = 'unprocessable' | 'unmatched';
export const PARK_REASONS = ['unprocessable', 'unmatched'] as const satisfies readonly ParkReason[];

/** Bytes of a parked body shown in listings; the whole body stays in the table. */
export const PARKED_BODY_PREVIEW_BYTES = 2048;

export interface ParkedStripeEvent {
  parkedId: string;
  reason: ParkReason;
  eventId: string | null;
  eventType: string | null;
  problems: FieldError[];
  bodyBytes: number | null;
  bodySha256: string | null;
  bodyPreview: string | null;
  parkedAt: string;
}

/** A path built from the body's keys may itself hold what jsonb refuses: shown with U+FFFD instead. */
function storable(problems: FieldError[]): FieldError[] {
  return problems.slice(0, LIMITS.stripeEventProblemsMax).map((p) => ({ path: toStorableText(p.path), message: toStorableText(p.message) }));
}

/** Parks a body that is not a readable event; returns false when the same body was parked before. */
export async function parkUnprocessable(sql: Queryable, raw: string, found: { eventId: string | null; eventType: string | null; problems: FieldError[] }): Promise<boolean> {
  const body = Buffer.from(raw, 'utf8');
  const sha = createHash('sha256').update(body).digest('hex');
  const rows = await sql`
    insert into stripe_events_parked (reason, dedupe_key, event_id, event_type, problems, body)
    values ('unprocessable', ${`unprocessable:${sha}`}, ${found.eventId}, ${found.eventType}, ${sql.json(storable(found.problems) as never)}, ${body})
    on conflict (dedupe_key) do nothing
    returning id`;
  return rows.length > 0;
}

/** Parks a stored event that names a subscription we do not have; false when it was parked before. */
export async function parkUnmatched(sql: Queryable, event: { id: string; type: string }, problem: FieldError): Promise<boolean> {
  const rows = await sql`
    insert into stripe_events_parked (reason, dedupe_key, event_id, event_type, problems)
    values ('unmatched', ${`unmatched:${event.id}`}, ${event.id}, ${event.type}, ${sql.json(storable([problem]) as never)})
    on conflict (dedupe_key) do nothing
    returning id`;
  return rows.length > 0;
}

interface ParkedRow {
  id: bigint;
  reason: ParkReason;
  event_id: string | null;
  event_type: string | null;
  problems: FieldError[];
  body_bytes: number | null;
  body_sha256: Buffer | null;
  preview: Buffer | null;
  parked_at: Date;
}

/** Parked events, oldest first, a page at a time (`after` = the last parkedId of the previous page). */
export async function listParkedStripeEvents(
  sql: Queryable,
  opts: { reason?: ParkReason | undefined; after?: bigint | undefined; limit: number },
): Promise<{ items: ParkedStripeEvent[]; next: string | null }> {
  const rows = await sql<ParkedRow[]>`
    select id, reason, event_id, event_type, problems, length(body) as body_bytes, sha256(body) as body_sha256,
           substring(body from 1 for ${PARKED_BODY_PREVIEW_BYTES}) as preview, parked_at
    from stripe_events_parked
    where (${opts.reason ?? null}::text is null or reason = ${opts.reason ?? null})
      and id > ${opts.after ?? 0n}
    order by id
    limit ${opts.limit + 1}`;
  const page = rows.slice(0, opts.limit);
  return {
    items: page.map((r) => ({
      parkedId: r.id.toString(),
      reason: r.reason,
      eventId: r.event_id,
      eventType: r.event_type,
      problems: r.problems,
      bodyBytes: r.body_bytes,
      bodySha256: r.body_sha256?.toString('hex') ?? null,
      bodyPreview: r.preview?.toString('utf8') ?? null,
      parkedAt: r.parked_at.toISOString(),
    })),
    next: rows.length > opts.limit ? page[page.length - 1]!.id.toString() : null,
  };
}
