/** Builders shared by the ledger tests: accounts private to one test, requests, and balance reads. */
import { expect } from 'vitest';
import { appRevenue, stripeClearing, teamPromoCredit, teamReceivable, teamWallet } from '../../src/ledger/accounts.js';
import type { AccountSpec, Leg, PostRequest } from '../../src/ledger/contract.js';
import type { Queryable } from '../../src/shared/db.js';
import { AppError } from '../../src/shared/errors.js';
import { uniqueId } from '../helpers/context.js';

export const AT = new Date('2026-01-15T12:00:00Z');

/** The idempotency scope of one test file: keys only need to be unique within the file. */
export const SCOPE = uniqueId('test');

/** A set of accounts nobody else writes to, so a test can predict every balance exactly. */
export function privateAccounts(promoCeilingMinor: bigint | null = null) {
  const teamId = uniqueId('team');
  const appId = uniqueId('app');
  const promo = teamPromoCredit(teamId, 'USD');
  return {
    teamId,
    appId,
    wallet: teamWallet(teamId, 'USD'),
    promo: { ...promo, maxBalanceMinor: promoCeilingMinor } satisfies AccountSpec,
    receivable: teamReceivable(teamId, 'USD'),
    revenue: appRevenue(appId, 'USD'),
    /** Stripe clearing is one account for the whole service; tests use a private one of the same shape. */
    clearing: { ...stripeClearing('USD'), code: `stripe_clearing:${uniqueId('test')}:USD` } satisfies AccountSpec,
  };
}

export function request(key: string, legs: Leg[], extra: Partial<PostRequest> = {}): PostRequest {
  return { scope: SCOPE, idempotencyKey: key, code: 'test_posting', effectiveAt: AT, legs, ...extra };
}

/** Money moves from `from` (debited) to `to` (credited). */
export function move(from: AccountSpec, to: AccountSpec, amountMinor: bigint, shardKey?: string): Leg[] {
  return [
    { account: from, side: 'debit', amountMinor, ...(shardKey ? { shardKey } : {}) },
    { account: to, side: 'credit', amountMinor, ...(shardKey ? { shardKey } : {}) },
  ];
}

/** An account's balance in normal-side terms, summed over its shards (0 for an account never used). */
export async function balanceOf(sql: Queryable, code: string): Promise<bigint> {
  const [row] = await sql<{ balance: bigint | null }[]>`
    select sum(b.balance_minor)::bigint as balance
    from ledger_balances b join ledger_accounts a on a.id = b.account_id
    where a.code = ${code}`;
  return row?.balance ?? 0n;
}

export async function transactionCount(sql: Queryable, scope: string, key: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from ledger_transactions where scope = ${scope} and idempotency_key = ${key}`;
  return row!.n;
}

/** Awaits `promise` expecting an AppError with `code`, and returns it. */
export async function rejection(promise: Promise<unknown>, code: string): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

/** Awaits `promise` expecting a Postgres error with SQLSTATE `code`. */
export async function sqlError(promise: Promise<unknown>, code: string): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the statement should have been refused').toBeDefined();
  expect((err as { code: string }).code).toBe(code);
  return err as { code: string; message: string };
}
