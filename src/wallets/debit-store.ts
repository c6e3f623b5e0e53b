/**
 * The `wallet_debits` table: each debit of a wallet by its idempotency key, so a retry answers with
 * the first outcome rather than charging again. Written under the wallet's lock.
 */
import type { Queryable, TxSql } from '../shared/db.js';

export interface DebitRow {
  teamId: string;
  currency: string;
  idempotencyKey: string;
  requestHash: Buffer;
  appId: string;
  amountMinor: bigint;
  fromGrantsMinor: bigint;
  overdraftMinor: bigint;
  holdId: string | null;
  ledgerTransactionId: string;
  createdAt: Date;
}

interface Row {
  team_id: string;
  currency: string;
  idempotency_key: string;
  request_hash: Buffer;
  app_id: string;
  amount_minor: bigint;
  from_grants_minor: bigint;
  overdraft_minor: bigint;
  hold_id: string | null;
  ledger_transaction_id: string;
  created_at: Date;
}

const toDebit = (r: Row): DebitRow => ({
  teamId: r.team_id,
  currency: r.currency,
  idempotencyKey: r.idempotency_key,
  requestHash: r.request_hash,
  appId: r.app_id,
  amountMinor: r.amount_minor,
  fromGrantsMinor: r.from_grants_minor,
  overdraftMinor: r.overdraft_minor,
  holdId: r.hold_id,
  ledgerTransactionId: r.ledger_transaction_id,
  createdAt: r.created_at,
});

export async function debitByKey(sql: Queryable, teamId: string, idempotencyKey: string): Promise<DebitRow | undefined> {
  const [row] = await sql<Row[]>`select * from wallet_debits where team_id = ${teamId} and idempotency_key = ${idempotencyKey}`;
  return row ? toDebit(row) : undefined;
}

export async function insertDebit(tx: TxSql, d: Omit<DebitRow, 'createdAt'>): Promise<DebitRow> {
  const [row] = await tx<Row[]>`
    insert into wallet_debits (team_id, currency, idempotency_key, request_hash, app_id, amount_minor, from_grants_minor,
                               overdraft_minor, hold_id, ledger_transaction_id)
    values (${d.teamId}, ${d.currency}, ${d.idempotencyKey}, ${d.requestHash}, ${d.appId}, ${d.amountMinor}, ${d.fromGrantsMinor},
            ${d.overdraftMinor}, ${d.holdId}, ${d.ledgerTransactionId})
    returning *`;
  return toDebit(row!);
}
