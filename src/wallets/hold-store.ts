/**
 * The `wallet_holds` table. A hold whose expires_at has passed is released in effect (lazy expiry):
 * openHeldMinor() no longer counts it and a capture refuses it; its row says `open` until something
 * resolves it (a release, or a capture attempt, which marks it `expired`).
 */
import type { Queryable, TxSql } from '../shared/db.js';

export type HoldStatus = 'open' | 'captured' | 'released' | 'expired';

export interface HoldRow {
  id: string;
  teamId: string;
  currency: string;
  appId: string;
  amountMinor: bigint;
  status: HoldStatus;
  capturedMinor: bigint | null;
  expiresAt: Date;
  idempotencyKey: string;
  requestHash: Buffer;
  createdAt: Date;
  resolvedAt: Date | null;
}

interface Row {
  id: string;
  team_id: string;
  currency: string;
  app_id: string;
  amount_minor: bigint;
  status: HoldStatus;
  captured_minor: bigint | null;
  expires_at: Date;
  idempotency_key: string;
  request_hash: Buffer;
  created_at: Date;
  resolved_at: Date | null;
}

const toHold = (r: Row): HoldRow => ({
  id: r.id,
  teamId: r.team_id,
  currency: r.currency,
  appId: r.app_id,
  amountMinor: r.amount_minor,
  status: r.status,
  capturedMinor: r.captured_minor,
  expiresAt: r.expires_at,
  idempotencyKey: r.idempotency_key,
  requestHash: r.request_hash,
  createdAt: r.created_at,
  resolvedAt: r.resolved_at,
});

/** The status a caller sees: an open hold past its expiry is expired. */
export function effectiveStatus(h: HoldRow, now: Date): HoldStatus {
  return h.status === 'open' && h.expiresAt.getTime() <= now.getTime() ? 'expired' : h.status;
}

/** What open, unexpired holds reserve, except `exceptHoldId` (the hold being captured). */
export async function openHeldMinor(sql: Queryable, teamId: string, currency: string, now: Date, exceptHoldId?: string): Promise<bigint> {
  const [row] = await sql<{ held: bigint }[]>`
    select coalesce(sum(amount_minor), 0)::bigint as held from wallet_holds
    where team_id = ${teamId} and currency = ${currency} and status = 'open' and expires_at > ${now}
      ${exceptHoldId ? sql`and id <> ${exceptHoldId}` : sql``}`;
  return row!.held;
}

export async function holdByKey(sql: Queryable, teamId: string, idempotencyKey: string): Promise<HoldRow | undefined> {
  const [row] = await sql<Row[]>`select * from wallet_holds where team_id = ${teamId} and idempotency_key = ${idempotencyKey}`;
  return row ? toHold(row) : undefined;
}

export async function holdById(sql: Queryable, teamId: string, holdId: string): Promise<HoldRow | undefined> {
  const [row] = await sql<Row[]>`select * from wallet_holds where team_id = ${teamId} and id = ${holdId}`;
  return row ? toHold(row) : undefined;
}

export async function insertHold(tx: TxSql, h: Omit<HoldRow, 'status' | 'capturedMinor' | 'createdAt' | 'resolvedAt'>, createdAt: Date): Promise<HoldRow> {
  const [row] = await tx<Row[]>`
    insert into wallet_holds (id, team_id, currency, app_id, amount_minor, expires_at, idempotency_key, request_hash, created_at)
    values (${h.id}, ${h.teamId}, ${h.currency}, ${h.appId}, ${h.amountMinor}, ${h.expiresAt}, ${h.idempotencyKey}, ${h.requestHash}, ${createdAt})
    returning *`;
  return toHold(row!);
}

/** Resolves an open hold; the caller holds the wallet's lock. */
export async function resolveHold(tx: TxSql, holdId: string, status: Exclude<HoldStatus, 'open'>, capturedMinor: bigint | null, at: Date): Promise<HoldRow> {
  const [row] = await tx<Row[]>`
    update wallet_holds set status = ${status}, captured_minor = ${capturedMinor}, resolved_at = ${at}
    where id = ${holdId} and status = 'open'
    returning *`;
  return toHold(row!);
}
