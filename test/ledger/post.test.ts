/**
 * Posting: balanced transactions with their balance chain, permanent idempotency, remembered
 * rejections, atomic batches, shards, reversals, and the two ways of owning the database transaction.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACCOUNT_SHARDS } from '../../src/ledger/accounts.js';
import {
  LedgerRejectedError,
  postTransaction,
  postTransactions,
  recordRejection,
  rejectionOf,
  reverseTransaction,
} from '../../src/ledger/post.js';
import { shardFor } from '../../src/ledger/request.js';
import { inTransaction } from '../../src/shared/db.js';
import { appSql } from '../helpers/context.js';
import { balanceOf, move, privateAccounts, rejection, request, SCOPE, transactionCount } from './fixtures.js';

const sql = () => appSql();

describe('posting a transaction', () => {
  it('writes balanced entries with the balance before and after and a gapless version per account', async () => {
    const a = privateAccounts();
    const first = await postTransaction(sql(), request('topup-1', move(a.clearing, a.wallet, 5_000_000n, a.teamId)));
    const second = await postTransaction(sql(), request('topup-2', move(a.clearing, a.wallet, 2_500_000n, a.teamId)));

    expect(first.replayed).toBe(false);
    const wallet = (t: typeof first) => t.entries.find((e) => e.accountCode === a.wallet.code)!;
    expect(wallet(first)).toMatchObject({ side: 'credit', amountMinor: 5_000_000n, balanceBeforeMinor: 0n, balanceAfterMinor: 5_000_000n, accountVersion: 1n });
    expect(wallet(second)).toMatchObject({ balanceBeforeMinor: 5_000_000n, balanceAfterMinor: 7_500_000n, accountVersion: 2n });
    // The clearing account is an asset: a debit raises its (debit-normal) balance.
    expect(first.entries.find((e) => e.accountCode === a.clearing.code)).toMatchObject({ side: 'debit', balanceAfterMinor: 5_000_000n });
    expect(await balanceOf(sql(), a.wallet.code)).toBe(7_500_000n);
  });

  it('returns the original transaction on a replay and writes nothing', async () => {
    const a = privateAccounts();
    const req = request('replay-1', move(a.clearing, a.wallet, 1_000n, a.teamId), { metadata: { invoice: 'inv_1' } });
    const first = await postTransaction(sql(), req);
    const again = await postTransaction(sql(), { ...req, provenance: { workflowId: 'another-run' } });

    expect(again).toEqual({ ...first, replayed: true });
    expect(await transactionCount(sql(), SCOPE, 'replay-1')).toBe(1);
    expect(await balanceOf(sql(), a.wallet.code)).toBe(1_000n);
  });

  it('refuses the same key with a different payload as idempotency_conflict and writes nothing', async () => {
    const a = privateAccounts();
    await postTransaction(sql(), request('conflict-1', move(a.clearing, a.wallet, 1_000n)));
    await rejection(postTransaction(sql(), request('conflict-1', move(a.clearing, a.wallet, 1_001n))), 'idempotency_conflict');
    await rejection(postTransaction(sql(), request('conflict-1', move(a.clearing, a.wallet, 1_000n), { effectiveAt: new Date() })), 'idempotency_conflict');
    expect(await balanceOf(sql(), a.wallet.code)).toBe(1_000n);
  });

  it('names every bad field of an invalid request and writes nothing', async () => {
    const a = privateAccounts();
    const err = await rejection(
      postTransactions(sql(), [
        {
          scope: 'Bad Scope',
          idempotencyKey: '',
          code: 'x',
          effectiveAt: new Date('nope'),
          legs: [
            { account: a.wallet, side: 'debit', amountMinor: 0n },
            { account: { ...a.receivable, currency: 'XXX' }, side: 'sideways' as 'debit', amountMinor: 5n },
          ],
        },
      ]),
      'validation_failed',
    );
    expect(err.fields?.map((f) => f.path).sort()).toEqual(
      [
        'requests.0.scope',
        'requests.0.idempotencyKey',
        'requests.0.effectiveAt',
        'requests.0.legs.0.amountMinor',
        'requests.0.legs.1.side',
        'requests.0.legs.1.account.currency',
      ].sort(),
    );
    expect(await balanceOf(sql(), a.wallet.code)).toBe(0n);
  });

  it('refuses legs whose debits and credits differ', async () => {
    const a = privateAccounts();
    const err = await rejection(
      postTransaction(sql(), request('unbalanced', [
        { account: a.clearing, side: 'debit', amountMinor: 100n },
        { account: a.wallet, side: 'credit', amountMinor: 99n },
      ])),
      'validation_failed',
    );
    expect(err.fields).toEqual([{ path: 'requests.0.legs', message: 'debits and credits in USD differ by 1 minor units' }]);
  });

  it('opens an account on first use and refuses a later use of its code with another definition', async () => {
    const a = privateAccounts();
    await postTransaction(sql(), request('open-1', move(a.receivable, a.revenue, 10n)));
    const err = await rejection(
      postTransaction(sql(), request('open-2', move({ ...a.receivable, kind: 'expense' }, a.revenue, 10n))),
      'conflict',
    );
    expect(err.message).toContain(a.receivable.code);
  });
});

describe('balance limits', () => {
  it('refuses a debit beyond a wallet balance as insufficient_funds', async () => {
    const a = privateAccounts();
    await postTransaction(sql(), request('fund', move(a.clearing, a.wallet, 1_000n)));
    const err = await rejection(postTransaction(sql(), request('spend', move(a.wallet, a.revenue, 1_001n, a.teamId))), 'insufficient_funds');
    expect(err.details).toMatchObject({ accountCode: a.wallet.code, balanceAfterMinor: '-1', minBalanceMinor: '0' });
    expect(await balanceOf(sql(), a.wallet.code)).toBe(1_000n);
  });

  it('keeps rejecting a rejected key the same way, even once the balance would allow it', async () => {
    const a = privateAccounts();
    const spend = request('spend-once', move(a.wallet, a.revenue, 500n, a.teamId));
    await rejection(postTransaction(sql(), spend), 'insufficient_funds');
    await postTransaction(sql(), request('fund-later', move(a.clearing, a.wallet, 1_000n)));

    const again = await rejection(postTransaction(sql(), spend), 'insufficient_funds');
    expect(again.details).toMatchObject({ rejectedBefore: true });
    expect(await balanceOf(sql(), a.wallet.code)).toBe(1_000n);
    // A different payload under the rejected key is still a conflict, not a second chance.
    await rejection(postTransaction(sql(), request('spend-once', move(a.wallet, a.revenue, 400n, a.teamId))), 'idempotency_conflict');
  });

  it('refuses a credit beyond an account ceiling as limit_exceeded', async () => {
    const a = privateAccounts(10_000n);
    await postTransaction(sql(), request('grant-1', move(a.clearing, a.promo, 10_000n)));
    await rejection(postTransaction(sql(), request('grant-2', move(a.clearing, a.promo, 1n))), 'limit_exceeded');
    expect(await balanceOf(sql(), a.promo.code)).toBe(10_000n);
  });

  it('checks every version inside a batch, so a batch cannot dip below a floor and come back', async () => {
    const a = privateAccounts();
    await rejection(
      postTransactions(sql(), [
        request('dip-spend', move(a.wallet, a.revenue, 100n, a.teamId)),
        request('dip-fund', move(a.clearing, a.wallet, 100n)),
      ]),
      'insufficient_funds',
    );
    expect(await balanceOf(sql(), a.wallet.code)).toBe(0n);
  });
});

describe('batches', () => {
  it('posts every transaction of a batch or none, and remembers only the one that was rejected', async () => {
    const a = privateAccounts();
    const batch = [
      request('b-fund', move(a.clearing, a.wallet, 300n)),
      request('b-spend-1', move(a.wallet, a.revenue, 200n, a.teamId)),
      request('b-spend-2', move(a.wallet, a.revenue, 200n, a.teamId)),
    ];
    const err = await rejection(postTransactions(sql(), batch), 'insufficient_funds');
    expect(err.details).toMatchObject({ idempotencyKey: 'b-spend-2' });
    expect(await balanceOf(sql(), a.wallet.code)).toBe(0n);
    expect(await transactionCount(sql(), SCOPE, 'b-fund')).toBe(0);

    // The others were not rejected: without the culprit, they post.
    const posted = await postTransactions(sql(), batch.slice(0, 2));
    expect(posted.map((p) => p.replayed)).toEqual([false, false]);
    await rejection(postTransaction(sql(), batch[2]!), 'insufficient_funds');
  });

  it('chains the balances of an account touched several times in one batch', async () => {
    const a = privateAccounts();
    const posted = await postTransactions(sql(), [1n, 2n, 3n].map((n) => request(`chain-${n}`, move(a.clearing, a.wallet, n * 100n))));
    expect(posted.map((p) => p.entries.find((e) => e.accountCode === a.wallet.code)).map((e) => [e!.balanceBeforeMinor, e!.balanceAfterMinor, e!.accountVersion])).toEqual([
      [0n, 100n, 1n],
      [100n, 300n, 2n],
      [300n, 600n, 3n],
    ]);
  });

  it('answers replays inside a batch with their originals while posting the new ones', async () => {
    const a = privateAccounts();
    const old = await postTransaction(sql(), request('mix-old', move(a.clearing, a.wallet, 5n)));
    const [replay, fresh] = await postTransactions(sql(), [request('mix-old', move(a.clearing, a.wallet, 5n)), request('mix-new', move(a.clearing, a.wallet, 7n))]);
    expect(replay).toEqual({ ...old, replayed: true });
    expect(fresh!.replayed).toBe(false);
    expect(await balanceOf(sql(), a.wallet.code)).toBe(12n);
  });
});

describe('sharded system accounts', () => {
  it('spreads postings over shards by the shard key and rolls them up to one balance', async () => {
    const a = privateAccounts();
    const teams = ['team_a', 'team_b', 'team_c', 'team_d', 'team_e', 'team_f'];
    const posted = await postTransactions(sql(), teams.map((t) => request(`shard-${t}`, move(a.receivable, a.revenue, 10n, t))));
    const shards = posted.map((p) => p.entries.find((e) => e.accountCode === a.revenue.code)!.shard);
    expect(shards).toEqual(teams.map((t) => shardFor(t, SYSTEM_ACCOUNT_SHARDS)));
    expect(new Set(shards).size).toBeGreaterThan(1);
    expect(await balanceOf(sql(), a.revenue.code)).toBe(60n);
  });
});

describe('reversals', () => {
  it('mirrors the original leg for leg onto the same shards', async () => {
    const a = privateAccounts();
    await postTransaction(sql(), request('rev-fund', move(a.clearing, a.wallet, 1_000n, 'k1')));
    const spend = await postTransaction(sql(), request('rev-spend', move(a.wallet, a.revenue, 400n, a.teamId)));
    const reversal = await reverseTransaction(sql(), { transactionId: spend.transactionId, scope: SCOPE, idempotencyKey: 'rev-1', effectiveAt: new Date() });

    expect(reversal.code).toBe('reversal');
    expect(reversal.entries.map((e) => [e.accountCode, e.shard, e.side, e.amountMinor])).toEqual(
      spend.entries.map((e) => [e.accountCode, e.shard, e.side === 'debit' ? 'credit' : 'debit', e.amountMinor]),
    );
    expect(await balanceOf(sql(), a.wallet.code)).toBe(1_000n);
    expect(await balanceOf(sql(), a.revenue.code)).toBe(0n);
  });

  it('reverses a transaction at most once, and replays the reversal under its own key', async () => {
    const a = privateAccounts();
    const t = await postTransaction(sql(), request('once', move(a.receivable, a.revenue, 50n, a.teamId)));
    const r = { transactionId: t.transactionId, scope: SCOPE, idempotencyKey: 'once-rev', effectiveAt: new Date('2026-02-01T00:00:00Z') };
    const first = await reverseTransaction(sql(), r);
    expect(await reverseTransaction(sql(), r)).toEqual({ ...first, replayed: true });
    await rejection(reverseTransaction(sql(), { ...r, idempotencyKey: 'once-rev-2' }), 'conflict');
    expect(await balanceOf(sql(), a.receivable.code)).toBe(0n);
  });

  it('refuses to reverse a top-up that was already spent', async () => {
    const a = privateAccounts();
    const topUp = await postTransaction(sql(), request('spent-fund', move(a.clearing, a.wallet, 100n)));
    await postTransaction(sql(), request('spent-spend', move(a.wallet, a.revenue, 60n, a.teamId)));
    await rejection(reverseTransaction(sql(), { transactionId: topUp.transactionId, scope: SCOPE, idempotencyKey: 'spent-rev', effectiveAt: new Date() }), 'insufficient_funds');
  });

  it('answers a reversal of an unknown transaction with not_found', async () => {
    await rejection(
      reverseTransaction(sql(), { transactionId: '00000000-0000-7000-8000-000000000000', scope: SCOPE, idempotencyKey: 'ghost', effectiveAt: new Date() }),
      'not_found',
    );
  });
});

describe("posting inside the caller's transaction", () => {
  it('commits and rolls back with the caller', async () => {
    const a = privateAccounts();
    await expect(
      inTransaction(sql(), async (tx) => {
        await postTransaction(tx, request('caller-rollback', move(a.clearing, a.wallet, 100n)));
        throw new Error('the caller fails after posting');
      }),
    ).rejects.toThrow('the caller fails');
    expect(await transactionCount(sql(), SCOPE, 'caller-rollback')).toBe(0);

    const posted = await inTransaction(sql(), (tx) => postTransaction(tx, request('caller-commit', move(a.clearing, a.wallet, 100n))));
    expect(posted.replayed).toBe(false);
    expect(await balanceOf(sql(), a.wallet.code)).toBe(100n);
  });

  it('hands the caller the rejection to record after its rollback, which then sticks', async () => {
    const a = privateAccounts();
    const spend = request('caller-spend', move(a.wallet, a.revenue, 10n, a.teamId));
    const err = await inTransaction(sql(), (tx) => postTransaction(tx, spend)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerRejectedError);
    const r = rejectionOf(err)!;
    expect(r).toMatchObject({ scope: SCOPE, idempotencyKey: 'caller-spend', code: 'insufficient_funds' });

    expect(await recordRejection(sql(), r)).toBe(true);
    expect(await recordRejection(sql(), r)).toBe(false);
    // A key that did post is never marked rejected afterwards: the posting wins.
    const posted = request('caller-posted', move(a.clearing, a.wallet, 1n));
    await postTransaction(sql(), posted);
    expect(await recordRejection(sql(), { ...r, idempotencyKey: 'caller-posted' })).toBe(false);
    await postTransaction(sql(), request('caller-fund', move(a.clearing, a.wallet, 100n)));
    await rejection(inTransaction(sql(), (tx) => postTransaction(tx, spend)), 'insufficient_funds');
  });
});
