/**
 * Ledger posting throughput with 8 concurrent writers, as the application role, through
 * postTransaction(s): (a) two-leg transfers between uniformly chosen accounts, (b) transfers that all
 * credit one logical revenue account (sharded by team), (c) batches of many transfers per call.
 * A plain single-statement write is the machine's baseline, so a slow figure can be told apart from
 * a busy machine. The machine is shared, so baseline, uniform and hot run interleaved in rounds:
 * a burst of load from elsewhere then hits all three alike and their ratios stay meaningful.
 * The verifier runs over everything at the end.
 *
 * npm run bench -- ledger [--seconds=12] [--rounds=4] [--accounts=10000] [--batch=100]
 */
import { randomInt } from 'node:crypto';
import { loadavg } from 'node:os';
import { appRevenue, teamReceivable } from '../src/ledger/accounts.js';
import type { PostRequest } from '../src/ledger/contract.js';
import { postTransaction, postTransactions } from '../src/ledger/post.js';
import { verifyLedger } from '../src/ledger/verify.js';
import { createSql, type Sql } from '../src/shared/db.js';
import type { BenchContext, BenchFigures } from './index.js';

const WRITERS = 8;
const CURRENCY = 'USD';
const HOT_APP = 'bench-hot-app';

function option(args: string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
}

interface PhaseResult {
  count: number;
  latenciesMs: number[];
  elapsedS: number;
}

/** Runs `writers` loops of `step` for `seconds`, adding to `into`: completed steps and each step's latency. */
async function phase(
  seconds: number,
  writers: number,
  step: (writer: number, i: number) => Promise<unknown>,
  into: PhaseResult = { count: 0, latenciesMs: [], elapsedS: 0 },
): Promise<PhaseResult> {
  const { latenciesMs } = into;
  const offset = latenciesMs.length;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let i = offset; performance.now() < deadline; i++) {
        const t0 = performance.now();
        await step(writer, i);
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  into.count = latenciesMs.length;
  into.elapsedS += (performance.now() - started) / 1000;
  return into;
}

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] ?? 0;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function run(ctx: BenchContext): Promise<BenchFigures> {
  const seconds = option(ctx.args, 'seconds', 12);
  const accountCount = option(ctx.args, 'accounts', 10_000);
  const batchSize = option(ctx.args, 'batch', 100);
  const rounds = option(ctx.args, 'rounds', 4);
  const runId = Date.now().toString(36);
  const app = createSql(ctx.services.appDbUrl, { applicationName: 'bench-ledger', max: WRITERS });
  const admin = createSql(ctx.services.adminDbUrl, { applicationName: 'bench-ledger-admin', max: WRITERS });
  const team = (i: number) => `bench_team_${i}`;
  const effectiveAt = new Date();
  const transfer = (key: string, from: number, to: number): PostRequest => {
    const amountMinor = BigInt(1 + randomInt(1000));
    return {
      scope: 'bench',
      idempotencyKey: `${runId}:${key}`,
      code: 'bench_transfer',
      effectiveAt,
      legs: [
        { account: teamReceivable(team(from), CURRENCY), side: 'debit', amountMinor },
        { account: teamReceivable(team(to), CURRENCY), side: 'credit', amountMinor },
      ],
    };
  };
  const pair = (): [number, number] => {
    const a = randomInt(accountCount);
    return [a, (a + 1 + randomInt(accountCount - 1)) % accountCount];
  };

  try {
    ctx.log(`opening ${accountCount} team accounts`);
    for (let start = 0; start < accountCount; start += 500) {
      const size = Math.min(500, accountCount - start);
      await postTransactions(app, Array.from({ length: size }, (_, k) => transfer(`open:${start + k}`, start + k, (start + k + 1) % accountCount)));
    }

    const uniformStep = (prefix: string) => (w: number, i: number) => {
      const [a, b] = pair();
      return postTransaction(app, transfer(`${prefix}:${w}:${i}`, a, b));
    };
    const hotStep = (w: number, i: number) => {
      const a = randomInt(accountCount);
      return postTransaction(app, {
        scope: 'bench',
        idempotencyKey: `${runId}:h:${w}:${i}`,
        code: 'bench_usage',
        effectiveAt,
        legs: [
          { account: teamReceivable(team(a), CURRENCY), side: 'debit', amountMinor: 10n },
          { account: appRevenue(HOT_APP, CURRENCY), side: 'credit', amountMinor: 10n, shardKey: team(a) },
        ],
      });
    };
    await phase(2, WRITERS, uniformStep('warm')); // Warm-up: plans cached in every connection, pages in memory.

    ctx.log(`uniform and hot (every transfer credits ${appRevenue(HOT_APP, CURRENCY).code}, sharded by team): ${rounds} rounds of ${seconds / rounds}s each, with the baseline between`);
    const uniform: PhaseResult = { count: 0, latenciesMs: [], elapsedS: 0 };
    const hot: PhaseResult = { count: 0, latenciesMs: [], elapsedS: 0 };
    let baselineCount = 0;
    let baselineS = 0;
    for (let r = 0; r < rounds; r++) {
      const b = await baselinePhase(admin, 1, accountCount);
      baselineCount += b.count;
      baselineS += b.elapsedS;
      await phase(seconds / rounds, WRITERS, uniformStep('u'), uniform);
      await phase(seconds / rounds, WRITERS, hotStep, hot);
    }
    await admin`drop table bench_baseline`;
    const baseline = baselineCount / baselineS;
    const sorted = [...uniform.latenciesMs].sort((x, y) => x - y);
    const uniformTps = uniform.count / uniform.elapsedS;
    const hotTps = hot.count / hot.elapsedS;
    ctx.log(`baseline (plain single-statement writes): ${round(baseline)} tx/s`);
    ctx.log(`uniform: ${round(uniformTps)} tx/s, p50 ${round(percentile(sorted, 50), 2)} ms, p99 ${round(percentile(sorted, 99), 2)} ms`);
    ctx.log(`hot: ${round(hotTps)} tx/s (${round((100 * hotTps) / uniformTps)}% of uniform)`);

    ctx.log(`batched: ${WRITERS} writers, ${batchSize} transfers per call`);
    const batched = await phase(seconds, WRITERS, (w, i) =>
      postTransactions(
        app,
        Array.from({ length: batchSize }, (_, k) => {
          const [a, b] = pair();
          return transfer(`b:${w}:${i}:${k}`, a, b);
        }),
      ),
    );
    const entriesPerS = (batched.count * batchSize * 2) / batched.elapsedS;
    ctx.log(`batched: ${round(entriesPerS)} entries/s (${round(batched.count / batched.elapsedS, 2)} calls/s)`);

    ctx.log('verifying the ledger');
    const report = await verifyLedger(admin);
    ctx.log(`verify: ${report.ok ? 'OK' : 'BROKEN'} over ${report.counts.entries} entries in ${report.elapsedMs} ms`);
    const [size] = await admin<{ bytes: bigint }[]>`
      select (pg_total_relation_size('ledger_entries') + pg_total_relation_size('ledger_transactions'))::bigint as bytes`;

    return {
      tx_per_s_uniform: round(uniformTps),
      tx_per_s_hot: round(hotTps),
      hot_vs_uniform_pct: round((100 * hotTps) / uniformTps),
      entries_per_s_batched: round(entriesPerS),
      p50_ms: round(percentile(sorted, 50), 2),
      p99_ms: round(percentile(sorted, 99), 2),
      baseline_single_statement_tx_per_s: round(baseline),
      uniform_vs_baseline_pct: round((100 * uniformTps) / baseline),
      writers: WRITERS,
      batch_size: batchSize,
      phase_seconds: seconds,
      rounds,
      accounts: accountCount,
      bytes_per_transaction: Math.round(Number(size!.bytes) / report.counts.transactions),
      verify_ok: report.ok,
      verify_ms: report.elapsedMs,
      verify_entries: report.counts.entries,
      loadavg1_end: round(loadavg()[0] ?? 0, 2),
    };
  } finally {
    await app.end({ timeout: 5 });
    await admin.end({ timeout: 5 });
  }
}

/**
 * The machine's yardstick: 8 writers each committing one plain statement (move an amount between
 * two rows of a scratch table, pgbench's TPC-B shape minus the history row), no ledger involved.
 */
async function baselinePhase(admin: Sql, seconds: number, rows: number): Promise<PhaseResult> {
  await admin`create table if not exists bench_baseline (id int primary key, balance bigint not null)`;
  await admin`insert into bench_baseline select g, 0 from generate_series(0, ${rows - 1}) g on conflict do nothing`;
  return phase(seconds, WRITERS, () => {
    const a = randomInt(rows);
    const b = (a + 1 + randomInt(rows - 1)) % rows;
    // One statement: both rows are locked in index order, so concurrent writers cannot deadlock.
    return admin`
      update bench_baseline set balance = balance + case when id = ${a} then -1 else 1 end
      where id in (${a}, ${b})`;
  });
}
