/**
 * The verifier finds every kind of damage a ledger can suffer once its triggers are bypassed (as a
 * superuser can), and `npm run ledger:verify` turns that into an exit code. Runs on a scratch
 * database, so the suite's own ledger stays intact for the verification after the suite.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { dropDatabase, ensureDatabase } from '../../src/dev/database-setup.js';
import { postTransaction, reverseTransaction } from '../../src/ledger/post.js';
import { verifyLedger, type VerifyReport } from '../../src/ledger/verify.js';
import { createSql, type Sql } from '../../src/shared/db.js';
import { PROJECT_ROOT } from '../../src/shared/paths.js';
import { services, uniqueId } from '../helpers/context.js';
import { move, privateAccounts, request } from './fixtures.js';

const databases: string[] = [];
const pools: Sql[] = [];

async function scratchLedger(): Promise<{ url: string; sql: Sql }> {
  const name = uniqueId('verify').toLowerCase();
  await ensureDatabase(services.serverAdminUrl, name);
  databases.push(name);
  const u = new URL(services.serverAdminUrl);
  u.pathname = `/${name}`;
  const sql = createSql(u.toString(), { applicationName: 'verify-test', max: 2 });
  pools.push(sql);
  await migrate(sql);
  return { url: u.toString(), sql };
}

afterAll(async () => {
  for (const p of pools) await p.end({ timeout: 5 });
  for (const db of databases) await dropDatabase(services.serverAdminUrl, db);
});

function cli(args: string[], databaseUrl: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/index.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout }));
  });
}

const violated = (report: VerifyReport, fragment: string) => report.violations.find((v) => v.check.includes(fragment));

describe('the ledger verifier', () => {
  let clean: { url: string; sql: Sql };
  let broken: { url: string; sql: Sql };
  let a: ReturnType<typeof privateAccounts>;

  beforeAll(async () => {
    [clean, broken] = await Promise.all([scratchLedger(), scratchLedger()]);
    a = privateAccounts();
    for (const ledger of [clean, broken]) {
      await postTransaction(ledger.sql, request('v-fund', move(a.clearing, a.wallet, 1_000n, a.teamId)));
      await postTransaction(ledger.sql, request('v-spend', move(a.wallet, a.revenue, 300n, a.teamId)));
      await postTransaction(ledger.sql, request('v-invoice', move(a.receivable, a.revenue, 500n, a.teamId)));
      const collect = await postTransaction(ledger.sql, request('v-collect', move(a.clearing, a.receivable, 200n, a.teamId)));
      await reverseTransaction(ledger.sql, { transactionId: collect.transactionId, scope: 'test', idempotencyKey: 'v-reverse', effectiveAt: new Date() });
    }
  });

  it('finds nothing wrong with a ledger written through ledger_post', async () => {
    const report = await verifyLedger(clean.sql);
    expect(report).toMatchObject({ ok: true, violations: [], counts: { transactions: 5, entries: 10 } });
  });

  it('reports each broken invariant of a ledger damaged behind its triggers', async () => {
    await broken.sql.begin(async (tx) => {
      // A superuser session can switch triggers off; that is the damage the verifier exists for.
      await tx`set local session_replication_role = replica`;
      const [spend] = await tx<{ id: string }[]>`select id from ledger_transactions where idempotency_key = 'v-spend'`;
      const [invoice] = await tx<{ id: string }[]>`select id from ledger_transactions where idempotency_key = 'v-invoice'`;
      const [fund] = await tx<{ id: string }[]>`select id from ledger_transactions where idempotency_key = 'v-fund'`;
      // An amount changed after the fact: unbalanced, and the chain arithmetic no longer holds.
      await tx`update ledger_entries set amount_minor = amount_minor + 1 where transaction_id = ${invoice!.id} and leg_index = 0`;
      // A wallet entry rewritten below the floor.
      await tx`update ledger_entries set balance_before_minor = -1, balance_after_minor = -301 where transaction_id = ${spend!.id} and leg_index = 0`;
      // A leg deleted: one entry left, a gap in its account's versions.
      await tx`delete from ledger_entries where transaction_id = ${fund!.id} and leg_index = 1`;
      // A balance row edited directly, another deleted.
      await tx`update ledger_balances set balance_minor = balance_minor + 7 where account_id = (select id from ledger_accounts where code = ${a.receivable.code})`;
      await tx`delete from ledger_balances where account_id = (select id from ledger_accounts where code = ${a.revenue.code}) and shard = 0`;
      // The reversal re-pointed at a transaction it does not mirror; an entry of no transaction.
      await tx`update ledger_transactions set reverses_id = ${spend!.id} where idempotency_key = 'v-reverse'`;
      await tx`
        insert into ledger_entries (transaction_id, leg_index, account_id, shard, side, amount_minor, balance_before_minor,
                                    balance_after_minor, account_version, effective_at)
        select gen_random_uuid(), 0, id, 0, 'debit', 1, 0, 1, 1000, now() from ledger_accounts where code = ${a.clearing.code}`;
    });

    const report = await verifyLedger(broken.sql);
    expect(report.ok).toBe(false);
    for (const check of ['at least two entries', 'belongs to a transaction', 'unbroken, gapless chain', 'below its floor', 'equals the sum', 'one balance row per shard', 'mirrors']) {
      expect(violated(report, check), check).toBeDefined();
    }
    expect(violated(report, 'below its floor')!.samples[0]).toContain(a.wallet.code);
    expect(violated(report, 'at least two entries')!.count).toBe(2); // the fund (one leg left) and the invoice (unbalanced)
  });

  it('exits 0 with one OK line on a sound ledger and 1 with the findings on a damaged one', async () => {
    const ok = await cli(['ledger', 'verify'], clean.url);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/^ledger OK: 5 transactions, 10 entries/);

    const bad = await cli(['ledger', 'verify'], broken.url);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('ledger BROKEN');
    expect(bad.stdout).toContain(a.wallet.code);
  });
});
