/**
 * Usage ingest over real HTTP: the api runs as its own process (as in production), the load
 * generator here signs a fresh JWT for every request, and both share the machine's cores with
 * Postgres. 1,000 teams, mixed event types, batches of 100 with 5 % resent duplicates:
 *   1. saturation: closed loop with --concurrency requests in flight, --seconds long in --rounds
 *      rounds, each followed by the raw ceilings (4.) of the same rows, so that every ratio compares
 *      figures taken minutes apart at most on a machine whose speed moves with other people's load;
 *   2. half saturation: open loop at half the throughput of 1, --seconds long (latency figures);
 *   3. single events: open loop at 200 requests/s, one event each;
 *   4. the raw ceilings: the same rows inserted by plain multi-row INSERTs (the yardstick of
 *      ratio_to_raw, the median of the rounds' ratios), and by COPY, no service in between, into a
 *      table like usage_events.
 * Then the COGS the api queued and has not folded yet are folded, and an independent recount of
 * every counter from the raw events, the dedup check, the COGS reconciliation and the ledger
 * verifier run.
 *
 * npm run bench -- ingest [--seconds=30] [--single-seconds=15] [--single-rate=200] [--concurrency=8] [--teams=1000] [--warmup=10] [--api-pool=10] [--rounds=3]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { verifyLedger, formatReport } from '../src/ledger/verify.js';
import { createSql, type Sql } from '../src/shared/db.js';
import { dataDir, PROJECT_ROOT } from '../src/shared/paths.js';
import { freePort, startProcess, waitForPort } from '../src/dev/processes.js';
import { foldCogs } from '../src/usage/cogs-fold.js';
import { reconcileCogs, recountUsage } from '../src/usage/recount.js';
import type { BenchContext, BenchFigures } from './index.js';

const BATCH = 100;
const DUPLICATE_SHARE = 0.05;
const SINGLE_RATE_PER_S = 200;
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
/** The api's DATABASE_POOL_MAX (its default). */
const API_POOL_MAX = 10;

function option(args: string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

interface Event {
  idempotencyKey: string;
  eventType: string;
  timestamp: string;
  teamId: string;
  payload: Record<string, unknown>;
  source: string;
}

/** Mixed traffic: half LLM calls, a quarter bandwidth, image generations and storage gauges. */
function newEvent(teams: readonly string[]): Event {
  const base = { idempotencyKey: randomUUID(), timestamp: new Date().toISOString(), teamId: pick(teams), source: 'bench/1.0.0' };
  const r = Math.random();
  if (r < 0.5) {
    return { ...base, eventType: 'llm.tokens.v1', payload: { provider: pick(['openai', 'anthropic']), model: pick(['gpt-5', 'gpt-5-mini', 'claude-sonnet']), inputTokens: 200 + Math.floor(Math.random() * 4000), outputTokens: Math.floor(Math.random() * 1000), ...(r < 0.1 ? { cachedInputTokens: 512 } : {}) } };
  }
  if (r < 0.75) return { ...base, eventType: 'bandwidth.bytes.v1', payload: { provider: 'cloudflare', direction: pick(['ingress', 'egress']), bytes: Math.floor(Math.random() * 10_000_000) } };
  if (r < 0.9) return { ...base, eventType: 'image.generated.v1', payload: { provider: 'openai', model: 'gpt-image-1', size: pick(['1024x1024', '512x512']) } };
  return { ...base, eventType: 'storage.bytes.v1', payload: { provider: 'aws-s3', bytes: Math.floor(Math.random() * 50_000_000_000) } };
}

/** Batches with 5 % of their events resent from earlier batches (same key, same content). */
class Traffic {
  private readonly recent: Event[] = [];
  /** Fresh events made (randomUUID keys, so each is a distinct key); the rest are resends. */
  distinctSent = 0;
  duplicatesSent = 0;

  constructor(private readonly teams: readonly string[]) {}

  batch(size: number): Event[] {
    const out: Event[] = [];
    for (let i = 0; i < size; i++) {
      if (this.recent.length > 1000 && Math.random() < DUPLICATE_SHARE) {
        out.push(pick(this.recent));
        this.duplicatesSent++;
        continue;
      }
      const e = newEvent(this.teams);
      this.distinctSent++;
      out.push(e);
      if (this.recent.length < 20_000) this.recent.push(e);
      else this.recent[Math.floor(Math.random() * this.recent.length)] = e;
    }
    return out;
  }
}

interface Client {
  send(events: Event[]): Promise<{ ms: number; ok: boolean; counts: Record<string, number> }>;
}

/**
 * node:http with a keep-alive agent rather than fetch: the load generator shares the two cores with
 * the service, and fetch's web streams cost it several times more CPU per request.
 */
function httpClient(baseUrl: string, appId: string, secret: Uint8Array, sockets: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const url = new URL(`${baseUrl}/v1/usage`);
  const post = (token: string, body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    async send(events) {
      const t0 = performance.now();
      // A fresh token per request, as the SDK does.
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ appId, scopes: ['usage:write'] }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + 120).sign(secret);
      const res = await post(token, JSON.stringify({ events }));
      const body = JSON.parse(res.body) as { accepted?: number; duplicates?: number; conflicts?: number; rejected?: number };
      return {
        ms: performance.now() - t0,
        ok: res.status === 200,
        counts: { accepted: body.accepted ?? 0, duplicates: body.duplicates ?? 0, conflicts: body.conflicts ?? 0, rejected: body.rejected ?? 0 },
      };
    },
  };
}

interface PhaseResult {
  events: number;
  requests: number;
  failed: number;
  latenciesMs: number[];
  elapsedS: number;
  counts: Record<string, number>;
}

function tally(into: PhaseResult, r: Awaited<ReturnType<Client['send']>>, events: number): void {
  into.requests++;
  into.events += events;
  into.latenciesMs.push(r.ms);
  if (!r.ok) into.failed++;
  for (const [k, v] of Object.entries(r.counts)) into.counts[k] = (into.counts[k] ?? 0) + v;
}

const emptyPhase = (): PhaseResult => ({ events: 0, requests: 0, failed: 0, latenciesMs: [], elapsedS: 0, counts: {} });

function merge(into: PhaseResult, part: PhaseResult): void {
  into.events += part.events;
  into.requests += part.requests;
  into.failed += part.failed;
  into.elapsedS += part.elapsedS;
  for (const ms of part.latenciesMs) into.latenciesMs.push(ms);
  for (const [k, v] of Object.entries(part.counts)) into.counts[k] = (into.counts[k] ?? 0) + v;
}

/** Closed loop: `concurrency` requests always in flight. */
async function closedLoop(client: Client, traffic: Traffic, seconds: number, concurrency: number): Promise<PhaseResult> {
  const result = emptyPhase();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const batch = traffic.batch(BATCH);
        tally(result, await client.send(batch), batch.length);
      }
    }),
  );
  result.elapsedS = (performance.now() - started) / 1000;
  return result;
}

/** Open loop: a request every 1/rate s whatever the answers do, so queueing shows in the latencies. */
async function openLoop(client: Client, traffic: Traffic, seconds: number, ratePerS: number, size: number): Promise<PhaseResult> {
  const result = emptyPhase();
  const started = performance.now();
  const total = Math.floor(seconds * ratePerS);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const batch = traffic.batch(size);
    inFlight.push(client.send(batch).then((r) => tally(result, r, batch.length)));
  }
  await Promise.all(inFlight);
  result.elapsedS = (performance.now() - started) / 1000;
  return result;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in 100 Hz ticks
  } catch {
    return 0; // gone (a backend that ended); its time is lost, so figures are lower bounds
  }
}

/**
 * CPU used by each side during a phase: the api process, the Postgres processes (every backend and
 * background worker of the server) and this load generator. Wall-clock throughput on a shared
 * machine says little; CPU per event says what the work costs.
 */
async function cpuSnapshot(admin: Sql, apiPid: number): Promise<{ api: number; db: number; dbBackground: number; load: number }> {
  const pids = await admin<{ pid: number; background: boolean }[]>`select pid, backend_type <> 'client backend' as background from pg_stat_activity`;
  const load = process.cpuUsage();
  const sum = (background: boolean) => pids.filter((p) => p.background === background).reduce((n, p) => n + cpuMs(p.pid), 0);
  return { api: cpuMs(apiPid), db: sum(false) + sum(true), dbBackground: sum(true), load: (load.user + load.system) / 1000 };
}

interface RawRow {
  app_id: string;
  idempotency_key: string;
  request_hash: Buffer;
  event_type: string;
  team_id: string;
  event_at: Date;
  period_id: bigint;
  payload: Record<string, unknown>;
  source: string;
  received_at: Date;
}

/** The bench's traffic as the rows usage_events stores, each with a key of its own. */
function rawRows(traffic: Traffic, periodId: bigint): RawRow[] {
  return traffic.batch(BATCH).map((e) => ({
    app_id: 'bench-raw',
    idempotency_key: `${e.idempotencyKey}-${randomBytes(4).toString('hex')}`,
    request_hash: randomBytes(32),
    event_type: e.eventType,
    team_id: e.teamId,
    event_at: new Date(e.timestamp),
    period_id: periodId,
    payload: e.payload,
    source: e.source,
    received_at: new Date(),
  }));
}

/** One row in COPY's text format (none of the bench's values holds a tab, newline or backslash). */
const copyLine = (r: RawRow) =>
  `${[r.app_id, r.idempotency_key, `\\\\x${r.request_hash.toString('hex')}`, r.event_type, r.team_id, r.event_at.toISOString(), r.period_id, JSON.stringify(r.payload), r.source, r.received_at.toISOString()].join('\t')}\n`;

/**
 * The same rows, written with no service in between into a fresh table like usage_events (its
 * indexes included): the machine's ceiling for this write, by multi-row INSERTs of a batch each
 * (the yardstick of ratio_to_raw) or by one COPY per batch.
 */
async function rawCeiling(admin: Sql, teams: readonly string[], seconds: number, concurrency: number, how: 'insert' | 'copy'): Promise<number> {
  const traffic = new Traffic(teams);
  await admin`drop table if exists bench_raw_events`;
  await admin`create table bench_raw_events (like usage_events including all)`;
  const [period] = await admin<{ id: bigint }[]>`select id from billing_periods limit 1`;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let rows = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const batch = rawRows(traffic, period!.id);
        if (how === 'insert') await admin`insert into bench_raw_events ${admin(batch as never)}`;
        else {
          const columns = 'app_id, idempotency_key, request_hash, event_type, team_id, event_at, period_id, payload, source, received_at';
          await pipeline(Readable.from([batch.map(copyLine).join('')]), await admin.unsafe(`copy bench_raw_events (${columns}) from stdin`).writable());
        }
        rows += batch.length;
      }
    }),
  );
  const perS = rows / ((performance.now() - started) / 1000);
  await admin`drop table bench_raw_events`;
  return perS;
}

export async function run(ctx: BenchContext): Promise<BenchFigures> {
  const seconds = option(ctx.args, 'seconds', 30);
  const singleSeconds = option(ctx.args, 'single-seconds', 15);
  const concurrency = option(ctx.args, 'concurrency', 8);
  const teamCount = option(ctx.args, 'teams', 1000);
  const warmupSeconds = option(ctx.args, 'warmup', 10);
  const singleRate = option(ctx.args, 'single-rate', SINGLE_RATE_PER_S);
  const apiPool = option(ctx.args, 'api-pool', API_POOL_MAX);
  const rounds = option(ctx.args, 'rounds', 3);
  const admin = createSql(ctx.services.adminDbUrl, { applicationName: 'bench-ingest-admin', max: concurrency });

  // The api, as its own process, configured like production except for where its services are.
  const port = await freePort();
  const api = startProcess('api', process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/api/server.ts')], {
    cwd: PROJECT_ROOT,
    logFile: join(dataDir(), 'bench', 'ingest-api.log'),
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: ctx.services.appDbUrl,
      DATABASE_POOL_MAX: String(apiPool),
      TEMPORAL_ADDRESS: ctx.services.temporalAddress,
      STRIPE_SECRET_KEY: 'sk_test_bench',
      STRIPE_API_URL: ctx.services.stripeApiUrl,
      STRIPE_WEBHOOK_SECRET: 'whsec_bench',
      SECRETS_KEY: randomBytes(32).toString('base64'),
      ADMIN_TOKEN,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
    },
  });
  try {
    await waitForPort('127.0.0.1', port, 60_000);
    const baseUrl = `http://127.0.0.1:${port}`;
    const adminCall = async (path: string, body: unknown) => {
      const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };

    const appId = `bench_${Date.now().toString(36)}`;
    const { secret } = (await adminCall('/admin/apps', { appId, name: 'Ingest bench' })) as { secret: string };
    const teams = Array.from({ length: teamCount }, (_, i) => `${appId}_t${i}`);
    await admin`insert into teams (id, name, kind, currency, request_hash) select t, 'Bench team', 'shared', 'USD', '\\x00' from unnest(${teams}::text[]) t`;
    await admin`insert into team_apps (team_id, app_id) select t, ${appId} from unnest(${teams}::text[]) t`;
    const rates: Array<[string, string | null, string, string, string]> = [
      ['openai', null, 'llm.input_tokens', '1.25', '1000000'],
      ['openai', null, 'llm.output_tokens', '10', '1000000'],
      ['openai', null, 'llm.cached_input_tokens', '0.125', '1000000'],
      ['anthropic', null, 'llm.input_tokens', '3', '1000000'],
      ['anthropic', null, 'llm.output_tokens', '15', '1000000'],
      ['openai', 'gpt-image-1', 'image.generations', '0.04', '1'],
      ['cloudflare', null, 'bandwidth.bytes', '0.01', '1000000000'],
      ['aws-s3', null, 'storage.bytes', '0.023', '1000000000'],
    ];
    for (const [provider, model, meter, unitCost, per] of rates) {
      await adminCall('/admin/cost-rates', { provider, model, meter, unitCost, per, effectiveFrom: '2020-01-01T00:00:00Z' });
    }

    // Enough sockets for every request the open loops may have in flight at once.
    const client = httpClient(baseUrl, appId, new TextEncoder().encode(secret), 256);
    const traffic = new Traffic(teams);
    // Until the teams' periods and counters exist: the figures are of the steady state, where a
    // batch updates counters rather than creating them (counters live for a whole period).
    ctx.log(`warming up for ${warmupSeconds}s (${teamCount} teams: their periods and counters are created on demand)`);
    const warmup = await closedLoop(client, traffic, warmupSeconds, concurrency);
    // The database was created for this run: its tables were empty when the api's sessions cached
    // their plans. Autovacuum analyzes tables this busy within a minute in any running system, which
    // makes the sessions plan again; here we do not wait for it.
    await admin`analyze`;

    ctx.log(`saturation: ${concurrency} batches of ${BATCH} in flight, ${rounds} rounds of ${round(seconds / rounds)}s, each followed by the same rows by INSERT and by COPY`);
    const saturated = emptyPhase();
    const cpuUsed = { api: 0, db: 0, dbBackground: 0, load: 0 };
    const raw: Array<{ insert: number; copy: number; ratio: number; copyRatio: number }> = [];
    for (let r = 0; r < rounds; r++) {
      const cpuBefore = await cpuSnapshot(admin, api.child.pid!);
      const part = await closedLoop(client, traffic, seconds / rounds, concurrency);
      const cpuAfter = await cpuSnapshot(admin, api.child.pid!);
      for (const side of ['api', 'db', 'dbBackground', 'load'] as const) cpuUsed[side] += cpuAfter[side] - cpuBefore[side];
      merge(saturated, part);
      const insert = await rawCeiling(admin, teams, Math.min(seconds, 10) / rounds, concurrency, 'insert');
      const copy = await rawCeiling(admin, teams, Math.min(seconds, 10) / rounds, concurrency, 'copy');
      const perS = part.events / part.elapsedS;
      raw.push({ insert, copy, ratio: perS / insert, copyRatio: perS / copy });
      ctx.log(`  round ${r + 1}: ${round(perS, 0)} events/s; raw ${round(insert, 0)} rows/s by INSERT, ${round(copy, 0)} by COPY (ratio ${round(perS / insert, 3)})`);
    }
    const cpuPerEvent = (side: keyof typeof cpuUsed) => round((cpuUsed[side] * 1000) / saturated.events, 1);
    const eventsPerS = saturated.events / saturated.elapsedS;
    const halfRate = eventsPerS / 2 / BATCH;
    ctx.log(`  ${round(eventsPerS, 0)} events/s; half saturation: ${round(halfRate, 1)} batches/s for ${seconds}s`);
    const half = await openLoop(client, traffic, seconds, halfRate, BATCH);
    ctx.log(`single events at ${singleRate} requests/s for ${singleSeconds}s`);
    const singleCpuBefore = await cpuSnapshot(admin, api.child.pid!);
    const single = await openLoop(client, traffic, singleSeconds, singleRate, 1);
    const singleCpuAfter = await cpuSnapshot(admin, api.child.pid!);
    const singleCpuMs = (side: 'api' | 'db') => round((singleCpuAfter[side] - singleCpuBefore[side]) / single.requests, 2);

    // The api folds queued COGS every LIMITS.usageCogsFoldIntervalMs and once more as it stops.
    await api.stop();
    const [queued] = await admin<{ n: number }[]>`select count(*)::int as n from usage_cogs_queue`;
    await foldCogs(admin, 'bench');
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const mean = (xs: number[]) => xs.reduce((n, x) => n + x, 0) / xs.length;

    ctx.log('recounting every counter from the raw events');
    const [stored] = await admin<{ rows: number; keys: number }[]>`
      select count(*)::int as rows, count(distinct idempotency_key)::int as keys from usage_events where app_id = ${appId}`;
    const recount = await recountUsage(admin, teams);
    const cogs = await reconcileCogs(admin);
    const ledger = await verifyLedger(admin);
    ctx.log(formatReport(ledger));
    for (const m of recount.mismatches.slice(0, 5)) ctx.log(`  mismatch ${JSON.stringify(m)}`);

    const all = [warmup, saturated, half, single];
    const halfSorted = [...half.latenciesMs].sort((a, b) => a - b);
    const singleSorted = [...single.latenciesMs].sort((a, b) => a - b);
    const accepted = all.reduce((n, p) => n + (p.counts.accepted ?? 0), 0);
    return {
      events_per_s: round(eventsPerS, 0),
      saturation_p50_ms: round(percentile([...saturated.latenciesMs].sort((a, b) => a - b), 50)),
      half_rate_events_per_s: round(half.events / half.elapsedS, 0),
      p50_ms: round(percentile(halfSorted, 50)),
      p99_ms: round(percentile(halfSorted, 99)),
      single_p50_ms: round(percentile(singleSorted, 50)),
      single_p95_ms: round(percentile(singleSorted, 95)),
      single_p99_ms: round(percentile(singleSorted, 99)),
      single_rate_per_s: round(single.requests / single.elapsedS, 0),
      /** CPU one single-event request costs the api and Postgres: what decides the rate they can sustain. */
      single_cpu_ms_api: singleCpuMs('api'),
      single_cpu_ms_postgres: singleCpuMs('db'),
      failed_requests: all.reduce((n, p) => n + p.failed, 0),
      raw_insert_rows_per_s: round(mean(raw.map((x) => x.insert)), 0),
      /** The median over the rounds of events/s ÷ raw INSERT rows/s measured right after. */
      ratio_to_raw: round(median(raw.map((x) => x.ratio)), 3),
      ratio_to_raw_rounds: raw.map((x) => round(x.ratio, 3)).join(' '),
      raw_copy_rows_per_s: round(mean(raw.map((x) => x.copy)), 0),
      ratio_to_copy: round(median(raw.map((x) => x.copyRatio)), 3),
      cpu_us_per_event_api: cpuPerEvent('api'),
      cpu_us_per_event_postgres: cpuPerEvent('db'),
      cpu_us_per_event_postgres_background: cpuPerEvent('dbBackground'),
      cpu_us_per_event_load_generator: cpuPerEvent('load'),
      /** Events/s the measured CPU per event allows on this machine's cores, were nothing else running. */
      cpu_bound_events_per_s: round((cpus().length * 1e6) / (cpuPerEvent('api') + cpuPerEvent('db') + cpuPerEvent('load')), 0),
      teams: teamCount,
      concurrency,
      rounds,
      api_pool: apiPool,
      events_sent: all.reduce((n, p) => n + p.events, 0),
      duplicates_sent: traffic.duplicatesSent,
      duplicates_reported: all.reduce((n, p) => n + (p.counts.duplicates ?? 0), 0),
      distinct_keys_sent: traffic.distinctSent,
      events_accepted: accepted,
      events_stored: stored!.rows,
      duplicates_counted: stored!.rows - stored!.keys + (accepted - traffic.distinctSent),
      counters: recount.counters,
      recount_ok: recount.mismatches.length === 0 && recount.events === stored!.rows,
      recount_mismatches: recount.mismatches.length,
      cogs_reconciled: cogs.length > 0 && cogs.every((c) => c.ok && c.queuedMinor === 0n),
      /** Queue rows the api had not folded when it stopped (it folds once more as it stops). */
      cogs_queue_rows_at_api_stop: queued!.n,
      ledger_verify_ok: ledger.ok,
      ledger_transactions: ledger.counts.transactions,
    };
  } finally {
    await api.stop();
    await admin.end({ timeout: 5 });
  }
}
