/**
 * Group commit (src/ledger/group-commit.ts): concurrent postings through one pool share
 * ledger_post calls, yet every caller gets exactly the answer it would have got alone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { postTransaction, postTransactions } from '../../src/ledger/post.js';
import { createSql } from '../../src/shared/db.js';
import { AppError } from '../../src/shared/errors.js';
import { LIMITS } from '../../src/shared/limits.js';
import { services } from '../helpers/context.js';
import { balanceOf, move, privateAccounts, request, SCOPE } from './fixtures.js';

const pool = createSql(services.appDbUrl, { applicationName: 'ledger-group-commit-test', max: 16 });
afterAll(() => pool.end({ timeout: 5 }));

/** Database transactions (xids) that wrote these keys: postings that shared a call share one. */
async function writerTransactions(keys: string[]): Promise<number> {
  const [row] = await pool<{ n: number }[]>`
    select count(distinct created_xid::text)::int as n from ledger_transactions
    where scope = ${SCOPE} and idempotency_key = any (${keys})`;
  return row!.n;
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'posted',
    (err: unknown) => (err instanceof AppError ? err.code : String(err)),
  );

describe('group commit', () => {
  it('puts concurrent postings of one pool into fewer database transactions, each caller getting its own', async () => {
    const a = privateAccounts();
    const n = 40;
    const keys = Array.from({ length: n }, (_, i) => `gc-share-${i}`);
    const posted = await Promise.all(keys.map((key, i) => postTransaction(pool, request(key, move(a.receivable, a.clearing, BigInt(i + 1))))));

    expect(posted.map((p) => p.idempotencyKey)).toEqual(keys);
    expect(posted.map((p) => p.entries[0]!.amountMinor)).toEqual(keys.map((_, i) => BigInt(i + 1)));
    expect(new Set(posted.map((p) => p.transactionId)).size).toBe(n);
    // At most callsInFlightMax calls start before the others queue; the queued ones then share calls.
    expect(await writerTransactions(keys)).toBeLessThanOrEqual(n / 2);
    expect(await balanceOf(pool, a.receivable.code)).toBe(BigInt((n * (n + 1)) / 2));
  });

  it('fails only the caller whose posting is rejected, and remembers that rejection', async () => {
    const a = privateAccounts();
    await postTransaction(pool, request('gc-fund', move(a.clearing, a.wallet, 100n)));
    // Queue behind callsInFlightMax busy calls so the others share one: a debit of 150 cannot pass.
    const busy = Array.from({ length: LIMITS.ledgerPostCallsInFlightMax }, (_, i) =>
      outcome(postTransaction(pool, request(`gc-busy-${i}`, move(a.receivable, a.clearing, 1n)))),
    );
    const results = await Promise.all([
      ...busy,
      outcome(postTransaction(pool, request('gc-ok-1', move(a.wallet, a.revenue, 30n, a.teamId)))),
      outcome(postTransaction(pool, request('gc-too-much', move(a.wallet, a.revenue, 150n, a.teamId)))),
      outcome(postTransaction(pool, request('gc-ok-2', move(a.wallet, a.revenue, 40n, a.teamId)))),
    ]);

    expect(results).toEqual([...busy.map(() => 'posted'), 'posted', 'insufficient_funds', 'posted']);
    expect(await balanceOf(pool, a.wallet.code)).toBe(30n);
    const [remembered] = await pool<{ code: string }[]>`
      select code from ledger_rejections where scope = ${SCOPE} and idempotency_key = 'gc-too-much'`;
    expect(remembered?.code).toBe('insufficient_funds');
  });

  it('never shares a call between two submissions of one key: one posts, the other replays or conflicts', async () => {
    const a = privateAccounts();
    const same = request('gc-same', move(a.receivable, a.clearing, 7n));
    const other = request('gc-same', move(a.receivable, a.clearing, 8n));
    const results = await Promise.all([
      outcome(postTransactions(pool, [request('gc-same-busy-0', move(a.clearing, a.revenue, 1n))])),
      outcome(postTransactions(pool, [request('gc-same-busy-1', move(a.clearing, a.revenue, 1n))])),
      postTransaction(pool, same),
      postTransaction(pool, same),
      outcome(postTransaction(pool, other)),
    ]);

    const [, , first, second, third] = results as [string, string, { transactionId: string; replayed: boolean }, { transactionId: string; replayed: boolean }, string];
    expect(second.transactionId).toBe(first.transactionId);
    expect([first.replayed, second.replayed].sort()).toEqual([false, true]);
    expect(third).toBe('idempotency_conflict');
    expect(await balanceOf(pool, a.receivable.code)).toBe(7n);
  });

  it('keeps a batch all or nothing when it shares a call with a failing one', async () => {
    const a = privateAccounts();
    await postTransaction(pool, request('gc-batch-fund', move(a.clearing, a.wallet, 50n)));
    const [good, bad] = await Promise.all([
      outcome(postTransactions(pool, [request('gc-batch-busy-0', move(a.clearing, a.revenue, 1n))])),
      outcome(postTransactions(pool, [request('gc-batch-busy-1', move(a.clearing, a.revenue, 1n))])),
      outcome(postTransactions(pool, [request('gc-batch-a1', move(a.receivable, a.clearing, 5n)), request('gc-batch-a2', move(a.receivable, a.clearing, 6n))])),
      outcome(postTransactions(pool, [request('gc-batch-b1', move(a.wallet, a.revenue, 20n, a.teamId)), request('gc-batch-b2', move(a.wallet, a.revenue, 40n, a.teamId))])),
    ]).then((r) => r.slice(2));

    expect(good).toBe('posted');
    expect(bad).toBe('insufficient_funds');
    expect(await balanceOf(pool, a.receivable.code)).toBe(11n);
    expect(await balanceOf(pool, a.wallet.code)).toBe(50n); // b1 alone would pass; the batch did not.
  });
});
