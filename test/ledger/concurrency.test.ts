/**
 * Concurrent writers against real Postgres: a no-overdraft wallet never goes below zero, one key
 * posts once however many submit it at the same moment, and batches that share accounts in any
 * order never deadlock.
 */
import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { postTransaction, postTransactions } from '../../src/ledger/post.js';
import { createSql } from '../../src/shared/db.js';
import { AppError } from '../../src/shared/errors.js';
import { services } from '../helpers/context.js';
import { balanceOf, move, privateAccounts, request, SCOPE, transactionCount } from './fixtures.js';

/** More connections than the shared test pool, so the writers really run at the same time. */
const WRITERS = 16;
const pool = createSql(services.appDbUrl, { applicationName: 'ledger-concurrency-test', max: WRITERS });
afterAll(() => pool.end({ timeout: 5 }));

describe('concurrent writers', () => {
  it('let exactly floor(B/a) debits of a through on a wallet holding B, and never below zero', async () => {
    const a = privateAccounts();
    const fundsMinor = 1_000_000n;
    const debitMinor = 70_000n;
    const attempts = 40;
    await postTransaction(pool, request('cw-fund', move(a.clearing, a.wallet, fundsMinor)));

    const outcomes = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        postTransaction(pool, request(`cw-debit-${i}`, move(a.wallet, a.revenue, debitMinor, a.teamId))).then(
          () => 'posted',
          (err: unknown) => (err instanceof AppError ? err.code : String(err)),
        ),
      ),
    );

    const expectedPosted = Number(fundsMinor / debitMinor);
    expect(outcomes.filter((o) => o === 'posted')).toHaveLength(expectedPosted);
    expect(outcomes.filter((o) => o === 'insufficient_funds')).toHaveLength(attempts - expectedPosted);
    expect(await balanceOf(pool, a.wallet.code)).toBe(fundsMinor - BigInt(expectedPosted) * debitMinor);
    const [lowest] = await pool<{ min: bigint }[]>`
      select min(e.balance_after_minor) as min from ledger_entries e join ledger_accounts acc on acc.id = e.account_id
      where acc.code = ${a.wallet.code}`;
    expect(lowest!.min >= 0n).toBe(true);
  });

  it('commit one transaction when K callers submit the same key at once, and all K get its id', async () => {
    const a = privateAccounts();
    const k = 24;
    const same = request('cw-same-key', move(a.clearing, a.wallet, 123n));
    const results = await Promise.all(Array.from({ length: k }, () => postTransaction(pool, same)));

    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await transactionCount(pool, SCOPE, 'cw-same-key')).toBe(1);
    expect(await balanceOf(pool, a.wallet.code)).toBe(123n);
  });

  it('never deadlock when batches touch the same accounts in different orders', async () => {
    const accounts = Array.from({ length: 6 }, () => privateAccounts().receivable);
    const batches = Array.from({ length: WRITERS }, (_, b) =>
      Array.from({ length: 30 }, (_, i) => {
        const from = randomInt(accounts.length);
        const to = (from + 1 + randomInt(accounts.length - 1)) % accounts.length;
        return request(`cw-batch-${b}-${i}`, move(accounts[from]!, accounts[to]!, BigInt(1 + randomInt(100))));
      }),
    );
    // Each inside a plain transaction of the caller: no retry there, so a deadlock would surface.
    const posted = await Promise.all(batches.map((batch) => pool.begin((tx) => postTransactions(tx, batch))));

    expect(posted.flat()).toHaveLength(WRITERS * 30);
    const total = (await Promise.all(accounts.map((acc) => balanceOf(pool, acc.code)))).reduce((s, b) => s + b, 0n);
    expect(total).toBe(0n); // Money only moved between these accounts.
  });

  it('spread one hot logical account over its shards without losing a posting', async () => {
    const a = privateAccounts();
    const teams = Array.from({ length: 200 }, (_, i) => `hot_team_${i}`);
    await Promise.all(teams.map((t, i) => postTransaction(pool, request(`cw-hot-${i}`, move(a.receivable, a.revenue, 5n, t)))));
    expect(await balanceOf(pool, a.revenue.code)).toBe(1_000n);
    expect(await balanceOf(pool, a.receivable.code)).toBe(1_000n);
  });
});
