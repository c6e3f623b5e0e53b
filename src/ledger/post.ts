/**
 * Posting to the ledger: one call of the SECURITY DEFINER function ledger_post() (sql/00002) per
 * batch, i.e. one round trip, for one or many ledger transactions.
 *
 * Given a pool, a call is its own database transaction (shared with concurrent calls through the same
 * pool by group commit, group-commit.ts, invisibly to each caller): it is retried a bounded number
 * of times on a deadlock or serialization failure, and a business rejection (insufficient_funds, limit_exceeded)
 * is recorded after the rollback, in its own statement, so a retry of that key is rejected the same
 * way. Given a TxSql, it runs inside the caller's transaction and neither retries nor records: the
 * error thrown is a LedgerRejectedError carrying the LedgerRejection, which the caller records with
 * recordRejection() after its rollback:
 *
 *     try { await inTransaction(sql, (tx) => ingestBatch(tx)); }
 *     catch (err) { const r = rejectionOf(err); if (r) await recordRejection(sql, r); throw err; }
 *
 * In the caller's transaction, a failed posting aborts that transaction (wrap the call in
 * tx.savepoint() to carry on without it); post everything of one database transaction in one call,
 * which is what keeps every lock in one global order; and use READ COMMITTED (the default), under
 * which a locked balance row is re-read at its latest committed value.
 *
 * A batch is all or nothing. A rejection names (and remembers) only the request that caused it.
 */
import { isTransaction, retryTransient, sqlState, type Queryable, type Sql } from '../shared/db.js';
import { LIMITS } from '../shared/limits.js';
import { AppError, notFound, validationError } from '../shared/errors.js';
import type { ErrorCode } from '../shared/error-codes.js';
import type {
  AccountSpec,
  LedgerRejection,
  PostedTransaction,
  PostRequest,
  RejectionCode,
  ReverseRequest,
  Side,
} from './contract.js';
import { postingQueue } from './group-commit.js';
import { onePer } from '../shared/group-commit.js';
import { isUuid, postArguments, prepareRequests, type InternalRequest, type PreparedRequest } from './request.js';

/** A business rejection of one request of a posting; `rejection` is what recordRejection() stores. */
export class LedgerRejectedError extends AppError {
  readonly rejection: LedgerRejection;

  constructor(rejection: LedgerRejection) {
    super(rejection.code, rejection.message, { details: rejection.details });
    this.rejection = rejection;
  }
}

/** The rejection to record after rolling back a transaction that a posting failed in, if any. */
export function rejectionOf(err: unknown): LedgerRejection | undefined {
  return err instanceof LedgerRejectedError ? err.rejection : undefined;
}

/** Remembers a rejection so the key stays rejected. False when the key was meanwhile posted or already rejected. */
export async function recordRejection(sql: Queryable, r: LedgerRejection): Promise<boolean> {
  const [row] = await sql<{ stored: boolean }[]>`
    select ledger_record_rejection(${r.scope}, ${r.idempotencyKey}, ${Buffer.from(r.requestHash, 'hex')},
                                   ${r.code}, ${r.message}, ${JSON.stringify(r.details)}::text::jsonb) as stored`;
  return row!.stored;
}

/** Posts ledger transactions atomically; replays return the stored transaction with `replayed: true`. */
export async function postTransactions(sql: Queryable, requests: PostRequest[]): Promise<PostedTransaction[]> {
  return submit(sql, prepareRequests(requests));
}

/** Posts one ledger transaction (see postTransactions). */
export async function postTransaction(sql: Queryable, request: PostRequest): Promise<PostedTransaction> {
  const [posted] = await postTransactions(sql, [request]);
  return posted!;
}

/**
 * Reverses a posted transaction with its legs mirrored onto the same account shards. A transaction
 * is reversed at most once (a second reversal under another key is a `conflict`); replaying the
 * reversal's own key returns it.
 */
export async function reverseTransaction(sql: Queryable, request: ReverseRequest): Promise<PostedTransaction> {
  if (typeof request.transactionId !== 'string' || !isUuid(request.transactionId)) {
    throw validationError([{ path: 'transactionId', message: 'must be a transaction id (uuid)' }]);
  }
  const original = await sql<OriginalLegRow[]>`
    select e.shard, e.side, e.amount_minor, a.code, a.kind, a.currency, a.owner_type, a.owner_id, a.shards,
           a.min_balance_minor, a.max_balance_minor
    from ledger_entries e join ledger_accounts a on a.id = e.account_id
    where e.transaction_id = ${request.transactionId}
    order by e.leg_index`;
  if (original.length === 0) throw notFound(`Ledger transaction ${request.transactionId}`);
  const reversal: InternalRequest = {
    scope: request.scope,
    idempotencyKey: request.idempotencyKey,
    code: request.code ?? 'reversal',
    effectiveAt: request.effectiveAt,
    reversesId: request.transactionId,
    legs: original.map((row) => ({
      account: accountOf(row),
      side: row.side === 'debit' ? 'credit' : 'debit',
      amountMinor: row.amount_minor,
      shard: row.shard,
    })),
    ...(request.metadata ? { metadata: request.metadata } : {}),
    ...(request.provenance ? { provenance: request.provenance } : {}),
  };
  const [posted] = await submit(sql, prepareRequests([reversal]));
  return posted!;
}

interface OriginalLegRow {
  shard: number;
  side: Side;
  amount_minor: bigint;
  code: string;
  kind: AccountSpec['kind'];
  currency: string;
  owner_type: AccountSpec['ownerType'];
  owner_id: string | null;
  shards: number;
  min_balance_minor: bigint | null;
  max_balance_minor: bigint | null;
}

function accountOf(row: OriginalLegRow): AccountSpec {
  return {
    code: row.code,
    kind: row.kind,
    currency: row.currency,
    ownerType: row.owner_type,
    ownerId: row.owner_id,
    minBalanceMinor: row.min_balance_minor,
    maxBalanceMinor: row.max_balance_minor,
    shards: row.shards,
  };
}

interface PostRow {
  tx_index: number;
  transaction_id: string;
  replayed: boolean;
  leg_index: number;
  account_code: string;
  shard: number;
  side: Side;
  amount_minor: bigint;
  balance_before_minor: bigint;
  balance_after_minor: bigint;
  account_version: bigint;
}

/** One posting queue per pool (group-commit.ts). */
const queueOf = onePer((sql: Sql) =>
  postingQueue(
    (prepared) => retryTransient(() => callPost(sql, prepared)),
    (prepared) => postAlone(sql, prepared),
    { callsInFlightMax: LIMITS.ledgerPostCallsInFlightMax, transactionsPerCallMax: LIMITS.ledgerGroupCommitTransactionsMax },
  ),
);

async function submit(sql: Queryable, prepared: PreparedRequest[]): Promise<PostedTransaction[]> {
  if (isTransaction(sql)) return callPost(sql, prepared);
  return queueOf(sql).submit(prepared);
}

/** One submission in a database transaction of its own, its rejection recorded. */
async function postAlone(sql: Sql, prepared: PreparedRequest[]): Promise<PostedTransaction[]> {
  try {
    return await retryTransient(() => callPost(sql, prepared));
  } catch (err) {
    const rejection = rejectionOf(err);
    // If recording fails, that infrastructure error is what the caller sees: its retry meets the
    // same rejection and records it then, so the key can never post later by accident.
    if (rejection) await recordRejection(sql, rejection);
    throw err;
  }
}

async function callPost(sql: Queryable, prepared: PreparedRequest[]): Promise<PostedTransaction[]> {
  const args = postArguments(prepared);
  let rows: PostRow[];
  try {
    rows = await sql<PostRow[]>`select * from ledger_post(${args.accounts}::text::jsonb, ${args.transactions}::text::jsonb)`;
  } catch (err) {
    throw ledgerError(err, prepared);
  }
  const posted: PostedTransaction[] = prepared.map((p) => ({
    transactionId: '',
    scope: p.scope,
    idempotencyKey: p.idempotencyKey,
    code: p.code,
    replayed: false,
    entries: [],
  }));
  const sorted = rows.sort((a, b) => a.tx_index - b.tx_index || a.leg_index - b.leg_index);
  for (const row of sorted) {
    const tx = posted[row.tx_index]!;
    tx.transactionId = row.transaction_id;
    tx.replayed = row.replayed;
    tx.entries.push({
      accountCode: row.account_code,
      shard: row.shard,
      side: row.side,
      amountMinor: row.amount_minor,
      balanceBeforeMinor: row.balance_before_minor,
      balanceAfterMinor: row.balance_after_minor,
      accountVersion: row.account_version,
    });
  }
  const missing = posted.findIndex((p) => p.entries.length === 0);
  if (missing >= 0) throw new Error(`ledger_post returned no entries for request ${missing}`);
  return posted;
}

/** Maps the ledger's SQLSTATEs (sql/00002 header) onto the service's error vocabulary. */
function ledgerError(err: unknown, prepared: PreparedRequest[]): unknown {
  const state = sqlState(err);
  const pg = err as { message?: string; detail?: string; constraint_name?: string };
  const detail = (): Record<string, unknown> => {
    try {
      return JSON.parse(pg.detail ?? '{}') as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  switch (state) {
    case 'LG001':
      return new AppError('idempotency_conflict', pg.message, { details: detail(), cause: err });
    case 'LG002':
    case 'LG003': {
      const d = detail();
      const request = prepared.find((p) => p.scope === d.scope && p.idempotencyKey === d.idempotencyKey);
      if (!request) return err;
      const code: RejectionCode = state === 'LG002' ? 'insufficient_funds' : 'limit_exceeded';
      return new LedgerRejectedError({
        scope: request.scope,
        idempotencyKey: request.idempotencyKey,
        requestHash: request.requestHash,
        code,
        message: pg.message ?? code,
        details: d,
      });
    }
    case 'LG004':
      return new AppError('conflict', pg.message, { details: detail(), cause: err });
    case 'LG005': {
      // Rejected before, with this very payload: the same answer again.
      const d = detail();
      return new AppError(d.code as ErrorCode, pg.message, {
        details: { ...(d.details as Record<string, unknown>), rejectedBefore: true },
        cause: err,
      });
    }
    case '23505':
      if (pg.constraint_name === 'ledger_transactions_one_reversal') {
        return new AppError('conflict', 'The transaction was already reversed', { cause: err });
      }
      return err;
    default:
      return err;
  }
}
