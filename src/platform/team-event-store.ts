/**
 * The `team_events` table: what happened to a team that its app or operator should hear of
 * (wallet.balance_low, wallet.depleted; usage alerts later). Recorded inside the transaction that
 * caused it, once per cause: (team, dedup_key) is unique, so a replay records nothing new. Read newest
 * first, paged by id. Tenant webhooks will deliver them from here.
 */
import type { Queryable } from '../shared/db.js';

export interface TeamEvent {
  eventId: string;
  teamId: string;
  type: string;
  detail: Record<string, unknown>;
  occurredAt: Date;
}

interface Row {
  id: bigint;
  team_id: string;
  type: string;
  detail: Record<string, unknown>;
  occurred_at: Date;
}

const toEvent = (r: Row): TeamEvent => ({ eventId: r.id.toString(), teamId: r.team_id, type: r.type, detail: r.detail, occurredAt: r.occurred_at });

/** Records the event unless its (team, dedupKey) was recorded before; true when it is new. */
export async function recordTeamEvent(
  sql: Queryable,
  e: { teamId: string; type: string; detail: Record<string, unknown>; dedupKey: string; occurredAt: Date },
): Promise<boolean> {
  const rows = await sql`
    insert into team_events (team_id, type, detail, dedup_key, occurred_at)
    values (${e.teamId}, ${e.type}, ${sql.json(e.detail as never)}, ${e.dedupKey}, ${e.occurredAt})
    on conflict (team_id, dedup_key) do nothing
    returning id`;
  return rows.length > 0;
}

/** A team's events of types starting with `typePrefix`, newest first, older than `beforeId` if given. */
export async function teamEvents(
  sql: Queryable,
  teamId: string,
  page: { typePrefix: string; limit: number; beforeId?: bigint | undefined },
): Promise<{ events: TeamEvent[]; next: bigint | null }> {
  const rows = await sql<Row[]>`
    select id, team_id, type, detail, occurred_at from team_events
    where team_id = ${teamId} and starts_with(type, ${page.typePrefix})
      ${page.beforeId === undefined ? sql`` : sql`and id < ${page.beforeId.toString()}`}
    order by id desc
    limit ${page.limit + 1}`;
  const events = rows.slice(0, page.limit).map(toEvent);
  return { events, next: rows.length > page.limit ? rows[page.limit - 1]!.id : null };
}
