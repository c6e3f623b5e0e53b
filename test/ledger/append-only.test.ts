/**
 * The ledger defends itself in Postgres: the application role can only read and call the posting
 * functions, and even the owner cannot change, delete or truncate ledger rows, write a balance
 * directly, or insert an unbalanced transaction or a forged entry.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { postTransaction } from '../../src/ledger/post.js';
import type { Sql } from '../../src/shared/db.js';
import { adminSql, appSql } from '../helpers/context.js';
import { AT, move, privateAccounts, request, sqlError } from './fixtures.js';

/** Each ledger table with an assignment that would change nothing if it were allowed. */
const LEDGER_TABLES: Record<string, string> = {
  ledger_currencies: 'scale = scale',
  ledger_accounts: 'code = code',
  ledger_balances: 'balance_minor = balance_minor',
  ledger_transactions: 'code = code',
  ledger_entries: 'amount_minor = amount_minor',
  ledger_rejections: 'code = code',
};
const INSUFFICIENT_PRIVILEGE = '42501';

let a: ReturnType<typeof privateAccounts>;
let postedId: string;

beforeAll(async () => {
  a = privateAccounts();
  const posted = await postTransaction(appSql(), request('append-only-seed', move(a.receivable, a.revenue, 1_000n, a.teamId)));
  postedId = posted.transactionId;
});

interface AccountState {
  id: string;
  balance: bigint;
  version: bigint;
}

async function state(sql: Sql, code: string): Promise<AccountState> {
  const [row] = await sql<AccountState[]>`
    select a.id, b.balance_minor as balance, b.version
    from ledger_accounts a join ledger_balances b on b.account_id = a.id and b.shard = 0
    where a.code = ${code}`;
  return row!;
}

/** In one owner transaction: a transaction header plus the given entries, written by hand. */
function insertByHand(
  entries: (txId: string) => Array<{ account: AccountState; side: 'debit' | 'credit'; amount: bigint; before: bigint; after: bigint; version: bigint }>,
  opts: { txId?: string; reversesId?: string; header?: boolean } = {},
) {
  const txId = opts.txId ?? randomUUID();
  return adminSql().begin(async (tx) => {
    if (opts.header !== false) {
      await tx`
        insert into ledger_transactions (id, scope, idempotency_key, request_hash, code, effective_at, reverses_id)
        values (${txId}, 'forgery', ${randomUUID()}, ${Buffer.alloc(32)}, 'forged', ${AT}, ${opts.reversesId ?? null})`;
    }
    let leg = 100;
    for (const e of entries(txId)) {
      await tx`
        insert into ledger_entries (transaction_id, leg_index, account_id, shard, side, amount_minor,
                                    balance_before_minor, balance_after_minor, account_version, effective_at)
        values (${txId}, ${leg++}, ${e.account.id}, 0, ${e.side}, ${e.amount}, ${e.before}, ${e.after}, ${e.version}, ${AT})`;
    }
  });
}

describe('the application role', () => {
  it.each(Object.entries(LEDGER_TABLES))('cannot UPDATE, DELETE, TRUNCATE or INSERT into %s', async (table, assignment) => {
    const app = appSql();
    await sqlError(app.unsafe(`update ${table} set ${assignment}`), INSUFFICIENT_PRIVILEGE);
    await sqlError(app.unsafe(`delete from ${table}`), INSUFFICIENT_PRIVILEGE);
    await sqlError(app.unsafe(`truncate ${table}`), INSUFFICIENT_PRIVILEGE);
    await sqlError(app.unsafe(`insert into ${table} default values`), INSUFFICIENT_PRIVILEGE);
  });

  it('cannot UPDATE or DELETE the entries of a posted transaction', async () => {
    await sqlError(appSql()`update ledger_entries set amount_minor = 1 where transaction_id = ${postedId}`, INSUFFICIENT_PRIVILEGE);
    await sqlError(appSql()`delete from ledger_entries where transaction_id = ${postedId}`, INSUFFICIENT_PRIVILEGE);
  });

  it('cannot post unbalanced legs even by calling ledger_post directly', async () => {
    const accounts = JSON.stringify([]);
    const transactions = JSON.stringify([
      {
        idx: 0,
        id: randomUUID(),
        scope: 'forgery',
        key: randomUUID(),
        hash: '00'.repeat(32),
        code: 'forged',
        effective_at: AT.toISOString(),
        legs: [
          { account: a.receivable.code, shard: 0, side: 'debit', amount: '100' },
          { account: a.revenue.code, shard: 0, side: 'credit', amount: '99' },
        ],
      },
    ]);
    const err = await sqlError(appSql()`select * from ledger_post(${accounts}::text::jsonb, ${transactions}::text::jsonb)`, 'LG102');
    expect(err.message).toContain('unbalanced');
  });
});

describe('the owner', () => {
  it.each(Object.entries(LEDGER_TABLES))('cannot UPDATE, DELETE or TRUNCATE %s', async (table, assignment) => {
    const admin = adminSql();
    await sqlError(admin.unsafe(`update ${table} set ${assignment}`), 'LG101');
    await sqlError(admin.unsafe(`delete from ${table}`), 'LG101');
    // CASCADE, so that a table other tables reference reaches its trigger instead of the FK check.
    await sqlError(admin.unsafe(`truncate ${table} cascade`), 'LG101');
  });

  it('cannot write a balance row directly', async () => {
    const s = await state(adminSql(), a.receivable.code);
    await sqlError(adminSql()`insert into ledger_balances (account_id, shard, balance_minor) values (${s.id}, 99, 5)`, 'LG101');
  });

  it('cannot insert a transaction whose entries do not balance', async () => {
    const r = await state(adminSql(), a.receivable.code);
    const err = await sqlError(
      insertByHand(() => [{ account: r, side: 'debit', amount: 5n, before: r.balance, after: r.balance + 5n, version: r.version + 1n }]),
      'LG102',
    );
    expect(err.message).toContain('unbalanced');
  });

  it('cannot insert a transaction without entries', async () => {
    await sqlError(insertByHand(() => []), 'LG102');
  });

  it('cannot insert an entry whose balance_before disagrees with the balance row', async () => {
    const r = await state(adminSql(), a.receivable.code);
    const err = await sqlError(
      insertByHand(() => [
        { account: r, side: 'debit', amount: 5n, before: r.balance + 1_000_000n, after: r.balance + 1_000_005n, version: r.version + 1n },
      ]),
      'LG103',
    );
    expect(err.message).toContain('stale or forged');
  });

  it('cannot insert an entry that skips a version', async () => {
    const r = await state(adminSql(), a.receivable.code);
    await sqlError(
      insertByHand(() => [{ account: r, side: 'debit', amount: 5n, before: r.balance, after: r.balance + 5n, version: r.version + 2n }]),
      'LG103',
    );
  });

  it('cannot insert an entry whose balance_after is not balance_before plus or minus its amount', async () => {
    const r = await state(adminSql(), a.receivable.code);
    const err = await sqlError(
      insertByHand(() => [{ account: r, side: 'debit', amount: 5n, before: r.balance, after: r.balance + 6n, version: r.version + 1n }]),
      'LG103',
    );
    expect(err.message).toContain('balance_after');
  });

  it('cannot add entries to a transaction that is already committed, even balanced ones', async () => {
    const r = await state(adminSql(), a.receivable.code);
    const err = await sqlError(
      insertByHand(
        () => [
          { account: r, side: 'debit', amount: 5n, before: r.balance, after: r.balance + 5n, version: r.version + 1n },
          { account: r, side: 'credit', amount: 5n, before: r.balance + 5n, after: r.balance, version: r.version + 2n },
        ],
        { txId: postedId, header: false },
      ),
      'LG103',
    );
    expect(err.message).toContain('already committed');
  });

  it('cannot insert a reversal that does not mirror its original', async () => {
    const r = await state(adminSql(), a.receivable.code);
    // Balanced, but the original moved 1000 from receivable to revenue, and this moves 5 within receivable.
    const err = await sqlError(
      insertByHand(
        () => [
          { account: r, side: 'debit', amount: 5n, before: r.balance, after: r.balance + 5n, version: r.version + 1n },
          { account: r, side: 'credit', amount: 5n, before: r.balance + 5n, after: r.balance, version: r.version + 2n },
        ],
        { reversesId: postedId },
      ),
      'LG102',
    );
    expect(err.message).toContain('mirror');
  });

  it('can still write a well-formed, balanced transaction by hand (the rules are the same for everyone)', async () => {
    const r = await state(adminSql(), a.receivable.code);
    await insertByHand(() => [
      { account: r, side: 'debit', amount: 5n, before: r.balance, after: r.balance + 5n, version: r.version + 1n },
      { account: r, side: 'credit', amount: 5n, before: r.balance + 5n, after: r.balance, version: r.version + 2n },
    ]);
    expect((await state(adminSql(), a.receivable.code)).version).toBe(r.version + 2n);
  });
});
