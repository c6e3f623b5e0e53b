/**
 * The `credit_grants` table and its history, `credit_grant_movements`: what each grant was, what is
 * left of it, and which ledger transaction moved how much of it. Writers hold the wallet's lock.
 */
import type { Queryable, TxSql } from '../shared/db.js';
import type { Consumption } from './grant-consumption.js';

export type GrantSource = 'purchase' | 'promotion' | 'plan_allowance' | 'refund' | 'manual';
/** The ledger account holding a grant's money. */
export type GrantAccount = 'wallet' | 'promo';

export function accountOfSource(source: GrantSource): GrantAccount {
  return source === 'promotion' || source === 'plan_allowance' ? 'promo' : 'wallet';
}

export interface GrantRow {
  id: string;
  teamId: string;
  currency: string;
  source: GrantSource;
  account: GrantAccount;
  amountMinor: bigint;
  /** What of the amount paid back the team's overdraft instead of becoming credit. */
  overdraftSettledMinor: bigint;
  remainingMinor: bigint;
  priority: number;
  expiresAt: Date | null;
  expiredAt: Date | null;
  reason: string;
  actor: string;
  idempotencyKey: string;
  requestHash: Buffer;
  ledgerTransactionId: string;
  createdAt: Date;
}

interface Row {
  id: string;
  team_id: string;
  currency: string;
  source: GrantSource;
  account: GrantAccount;
  amount_minor: bigint;
  overdraft_settled_minor: bigint;
  remaining_minor: bigint;
  priority: number;
  expires_at: Date | null;
  expired_at: Date | null;
  reason: string;
  actor: string;
  idempotency_key: string;
  request_hash: Buffer;
  ledger_transaction_id: string;
  created_at: Date;
}

const toGrant = (r: Row): GrantRow => ({
  id: r.id,
  teamId: r.team_id,
  currency: r.currency,
  source: r.source,
  account: r.account,
  amountMinor: r.amount_minor,
  overdraftSettledMinor: r.overdraft_settled_minor,
  remainingMinor: r.remaining_minor,
  priority: r.priority,
  expiresAt: r.expires_at,
  expiredAt: r.expired_at,
  reason: r.reason,
  actor: r.actor,
  idempotencyKey: r.idempotency_key,
  requestHash: r.request_hash,
  ledgerTransactionId: r.ledger_transaction_id,
  createdAt: r.created_at,
});

export async function grantByKey(sql: Queryable, teamId: string, idempotencyKey: string): Promise<GrantRow | undefined> {
  const [row] = await sql<Row[]>`select * from credit_grants where team_id = ${teamId} and idempotency_key = ${idempotencyKey}`;
  return row ? toGrant(row) : undefined;
}

export type NewGrant = Omit<GrantRow, 'remainingMinor' | 'expiredAt' | 'createdAt'>;

/** Inserts a grant with all its credit (the amount less the overdraft it settled) left, and its `grant` movement. */
export async function insertGrant(tx: TxSql, g: NewGrant, createdAt: Date): Promise<GrantRow> {
  const credit = g.amountMinor - g.overdraftSettledMinor;
  const [row] = await tx<Row[]>`
    insert into credit_grants (id, team_id, currency, source, account, amount_minor, overdraft_settled_minor, remaining_minor, priority,
                               expires_at, reason, actor, idempotency_key, request_hash, ledger_transaction_id, created_at)
    values (${g.id}, ${g.teamId}, ${g.currency}, ${g.source}, ${g.account}, ${g.amountMinor}, ${g.overdraftSettledMinor}, ${credit}, ${g.priority},
            ${g.expiresAt}, ${g.reason}, ${g.actor}, ${g.idempotencyKey}, ${g.requestHash}, ${g.ledgerTransactionId}, ${createdAt})
    returning *`;
  if (credit > 0n) {
    await tx`
      insert into credit_grant_movements (ledger_transaction_id, grant_id, kind, amount_minor)
      values (${g.ledgerTransactionId}, ${g.id}, 'grant', ${credit})`;
  }
  return toGrant(row!);
}

/** Grants of the wallet with credit left (expired or not), oldest first. */
export async function openGrants(sql: Queryable, teamId: string, currency: string): Promise<GrantRow[]> {
  const rows = await sql<Row[]>`
    select * from credit_grants
    where team_id = ${teamId} and currency = ${currency} and remaining_minor > 0
    order by created_at, id`;
  return rows.map(toGrant);
}

/** Every grant of the wallet, newest first (for the wallet read). */
export async function allGrants(sql: Queryable, teamId: string, currency: string, limit: number): Promise<GrantRow[]> {
  const rows = await sql<Row[]>`
    select * from credit_grants where team_id = ${teamId} and currency = ${currency}
    order by created_at desc, id desc limit ${limit}`;
  return rows.map(toGrant);
}

/** Takes what a ledger transaction consumed from each grant, and records it as that transaction's movements. */
export async function takeFromGrants(tx: TxSql, ledgerTransactionId: string, kind: 'debit' | 'expiry', consumed: readonly Consumption[], expiredAt: Date | null): Promise<void> {
  for (const c of consumed) {
    // The check constraint (remaining_minor >= 0) stops any bug that would take more than is left.
    await tx`
      update credit_grants set remaining_minor = remaining_minor - ${c.amountMinor},
                               expired_at = coalesce(${expiredAt}, expired_at)
      where id = ${c.grantId}`;
    await tx`
      insert into credit_grant_movements (ledger_transaction_id, grant_id, kind, amount_minor)
      values (${ledgerTransactionId}, ${c.grantId}, ${kind}, ${-c.amountMinor})`;
  }
}

/** Grants whose expiry has come with credit left: (team, currency) pairs to sweep. */
export async function walletsWithDueGrants(sql: Queryable, now: Date, limit: number): Promise<{ teamId: string; currency: string }[]> {
  const rows = await sql<{ team_id: string; currency: string }[]>`
    select distinct team_id, currency from credit_grants
    where remaining_minor > 0 and expires_at is not null and expires_at <= ${now}
    limit ${limit}`;
  return rows.map((r) => ({ teamId: r.team_id, currency: r.currency }));
}

/** The wallet's open grant count (bounded by LIMITS.walletOpenGrantsMax). */
export async function openGrantCount(sql: Queryable, teamId: string, currency: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from credit_grants where team_id = ${teamId} and currency = ${currency} and remaining_minor > 0`;
  return row!.n;
}
