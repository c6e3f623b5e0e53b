/**
 * The ledger's public contract: what activities, the usage ingest path and the API use to move
 * money. Implemented in src/ledger/*.ts; this file holds only the types every caller codes against.
 *
 * Amounts are `bigint` minor units at the currency's ledger scale (USD: 6); on the wire they are
 * decimal strings. An account is addressed by a stable code built only through the chart of accounts
 * (src/ledger/accounts.ts); it is created on first use.
 */

export type Side = 'debit' | 'credit';
export type AccountKind = 'asset' | 'liability' | 'equity' | 'revenue' | 'expense';

export interface AccountSpec {
  /** Unique, e.g. `wallet:team_1:USD`. The whole spec is the account's identity: reusing a code with another spec is a conflict. */
  code: string;
  kind: AccountKind;
  currency: string;
  ownerType: 'team' | 'app' | 'provider' | 'system';
  ownerId: string | null;
  /** 0n = may never go below zero (wallets); null = unbounded. In normal-side terms. */
  minBalanceMinor: bigint | null;
  maxBalanceMinor: bigint | null;
  /**
   * Balance rows the account is spread over (default 1). Hot system accounts without limits use
   * several so concurrent writers rarely wait on one row; an account with a limit has exactly one.
   */
  shards?: number;
}

export interface Leg {
  account: AccountSpec;
  side: Side;
  /** > 0. */
  amountMinor: bigint;
  /**
   * Picks the shard of a sharded account by a stable hash, e.g. the team id, so a team's postings
   * stay on one row and different teams spread. Default: the request's idempotency key.
   */
  shardKey?: string;
}

export interface PostRequest {
  /** Idempotency namespace, e.g. `usage-cogs`, `invoice`, `payment`. (scope, idempotencyKey) is unique forever. */
  scope: string;
  idempotencyKey: string;
  /** Why money moved: `cogs_accrual`, `invoice_issued`, `payment_received`, `reversal`, … */
  code: string;
  /** Business time of the movement. Part of the payload: a retry must send the same instant. */
  effectiveAt: Date;
  legs: Leg[];
  metadata?: Record<string, unknown>;
  /** Where the posting came from; recorded, but not part of the payload a replay must match. */
  provenance?: { workflowId?: string; runId?: string; activity?: string; actor?: string };
}

/** Reverses a posted transaction: the same legs with sides swapped, at most once per transaction. */
export interface ReverseRequest {
  transactionId: string;
  scope: string;
  idempotencyKey: string;
  effectiveAt: Date;
  /** Default `reversal`. */
  code?: string;
  metadata?: Record<string, unknown>;
  provenance?: PostRequest['provenance'];
}

export interface PostedEntry {
  accountCode: string;
  /** The balance row of the account the entry moved (always 0 for an unsharded account). */
  shard: number;
  side: Side;
  amountMinor: bigint;
  /** Of that shard, in the account's normal-side terms. */
  balanceBeforeMinor: bigint;
  balanceAfterMinor: bigint;
  accountVersion: bigint;
}

export interface PostedTransaction {
  transactionId: string;
  scope: string;
  idempotencyKey: string;
  code: string;
  /** True when this key was posted before with the same payload: nothing was written now. */
  replayed: boolean;
  entries: PostedEntry[];
}

/** Business rejections the ledger remembers per key, so a retry is rejected the same way. */
export type RejectionCode = 'insufficient_funds' | 'limit_exceeded';

/**
 * What a caller that runs the posting inside its own transaction records (with recordRejection)
 * after rolling back, so that a retry of the same key is rejected the same way.
 */
export interface LedgerRejection {
  scope: string;
  idempotencyKey: string;
  /** Hex sha256 of the canonical request. */
  requestHash: string;
  code: RejectionCode;
  message: string;
  details: Record<string, unknown>;
}
