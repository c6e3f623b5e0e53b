/**
 * `npm run bench -- soak [--minutes=60] [--rate=<events/s>] [--teams=1000] [--subscribers=20] [--period-seconds=60]`
 *
 * A steady process under long load. The api and the worker run as child processes, configured as in
 * production; the load is usage ingest over HTTP at half the saturation throughput, batches of 100
 * in an open loop (a batch every 1/rate s whatever the answers do, so queueing shows in the
 * latencies), with the ingest bench's event mix, and `subscribers` subscriptions whose periods close
 * every `period-seconds` (rating, invoice, ledger, Stripe calls, payment webhooks from the simulated
 * Stripe), which is what keeps the worker busy. Their periods end spread evenly over the period, as
 * subscriptions started at different moments do (`--aligned-closes`: all in the same second).
 *
 * Saturation is measured first, in this run and this setting (closes, worker and Temporal sharing
 * the machine): SATURATION_SECONDS of a closed loop with SATURATION_IN_FLIGHT batches in flight,
 * after a warm-up. `--rate` replaces it with a fixed rate.
 *
 * Every minute it records, and logs: RSS and V8 heap (used, total) of the api and the worker, the
 * worker's cached workflows, the minute's p50/p99 and error count, the 1-minute load average (the
 * machine is shared: read p99 beside it), and the database's table and index sizes. The figures
 * compare minute 5 with the last minute; the series go to bench/results/soak.json.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { SignJWT } from 'jose';
import { createSql } from '../src/shared/db.js';
import { ADMIN_TOKEN, apiSpec, buildWorld, httpApi, metricsText, promValue, rssBytes, simulatedStripe, until, waitReady, workerSpec } from './harness.js';
import type { BenchContext, BenchFigures } from './index.js';

const BATCH = 100;
/** The minute the steady state is compared from: warm-up (JIT, pools, caches, first periods) is over. */
const BASELINE_MINUTE = 5;
const SAMPLE_MS = 60_000;
const MB = 1024 * 1024;
/** The saturation phase: one close cycle of the default period, batches in flight as in the ingest bench. */
const SATURATION_SECONDS = 60;
const SATURATION_WARMUP_SECONDS = 10;
const SATURATION_IN_FLIGHT = 8;
/** How often the database's active sessions are sampled for what they wait on. */
const WAIT_SAMPLE_MS = 250;

function option(args: string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`--${name}=`)) ?? (args.includes(`--${name}`) ? `--${name}=${args[args.indexOf(`--${name}`) + 1]}` : undefined);
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
}

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** The ingest bench's mix: half LLM calls, a quarter bandwidth, image generations and storage gauges. */
function newEvent(teams: readonly string[]) {
  const base = { idempotencyKey: randomUUID(), timestamp: new Date().toISOString(), teamId: pick(teams), source: 'bench-soak/1.0.0' };
  const r = Math.random();
  if (r < 0.5) {
    return { ...base, eventType: 'llm.tokens.v1', payload: { provider: pick(['openai', 'anthropic']), model: pick(['gpt-5', 'gpt-5-mini', 'claude-sonnet']), inputTokens: 200 + Math.floor(Math.random() * 4000), outputTokens: Math.floor(Math.random() * 1000) } };
  }
  if (r < 0.75) return { ...base, eventType: 'bandwidth.bytes.v1', payload: { provider: 'cloudflare', direction: pick(['ingress', 'egress']), bytes: Math.floor(Math.random() * 10_000_000) } };
  if (r < 0.9) return { ...base, eventType: 'image.generated.v1', payload: { provider: 'openai', model: 'gpt-image-1', size: pick(['1024x1024', '512x512']) } };
  return { ...base, eventType: 'storage.bytes.v1', payload: { provider: 'aws-s3', bytes: Math.floor(Math.random() * 50_000_000_000) } };
}

interface Minute {
  minute: number;
  requests: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  loadavg1: number;
  api_rss_mb: number;
  api_heap_used_mb: number;
  api_heap_total_mb: number;
  worker_rss_mb: number;
  worker_heap_used_mb: number;
  worker_heap_total_mb: number;
  worker_cached_workflows: number;
  db_tables_mb: number;
  db_indexes_mb: number;
  usage_events: number;
  invoices_paid: number;
  /** What the database's active sessions waited on, sampled every WAIT_SAMPLE_MS: the five most seen. */
  db_waits: Record<string, number>;
  /** The minute's ten slowest requests: latency (ms) and when they started, in seconds since the load began modulo period-seconds (closes recur at one phase of it). */
  slowest: { ms: number; at_s: number }[];
}

export async function run(ctx: BenchContext): Promise<BenchFigures> {
  const minutes = option(ctx.args, 'minutes', 60);
  const fixedRate = option(ctx.args, 'rate', 0);
  const staggered = !ctx.args.includes('--aligned-closes');
  const teamCount = option(ctx.args, 'teams', 1000);
  const subscribers = option(ctx.args, 'subscribers', 20);
  const periodSeconds = option(ctx.args, 'period-seconds', 60);
  const { services } = ctx;
  const admin = createSql(services.adminDbUrl, { applicationName: 'bench-soak-admin', max: 4 });
  const taskQueue = `soak-${Date.now().toString(36)}`;
  const endpoints = { appDbUrl: services.appDbUrl, temporalAddress: services.temporalAddress, stripeApiUrl: services.stripeApiUrl, bundlePath: services.bundlePath };
  const apiProc = await apiSpec(endpoints, { taskQueue, periodSeconds, label: 'soak' });
  const workerProc = await workerSpec(endpoints, { taskQueue, label: 'soak' });
  const api = apiProc.start();
  const worker = workerProc.start();
  let simulation: { stop(): Promise<void> } | null = null;
  let waitSampler: NodeJS.Timeout | undefined;
  try {
    await Promise.all([waitReady(apiProc), waitReady(workerProc)]);
    const http = httpApi(apiProc.port);
    const world = await buildWorld(http, admin, { usageTeams: teamCount, subscribers, label: 'soak' });
    const sim = simulatedStripe(admin, services.stripeRecorderUrl, http, () => world.subscribedTeams, periodSeconds, staggered);
    simulation = sim.run(500);
    await until(async () => (await admin`select 1 from subscriptions where id = any(${world.subscriptionIds}) and status = 'active'`).length === subscribers, 300_000, 'subscriptions active');
    ctx.log(`${subscribers} subscriptions live (periods of ${periodSeconds}s, ends ${staggered ? 'staggered' : 'aligned'}), ${teamCount} usage teams`);

    const teams = [...world.usageTeams, ...world.subscribedTeams];
    const secret = new TextEncoder().encode(world.secret);
    // A timeout makes the agent honour the server's Keep-Alive hint (timeout=5): it drops an idle
    // socket a second before the server would. Without one it reuses sockets the server is closing
    // at that moment, and the request fails with ECONNRESET (seen once in a 6-minute run).
    const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 60_000 });
    let token = '';
    let tokenAt = 0;
    const freshToken = async () => {
      // One token per few seconds, as an SDK reuses its token within its lifetime.
      if (Date.now() - tokenAt > 5_000) {
        const now = Math.floor(Date.now() / 1000);
        token = await new SignJWT({ appId: world.appId, scopes: ['usage:write'] }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + 120).sign(secret);
        tokenAt = Date.now();
      }
      return token;
    };
    type Window = { latencies: number[]; starts: number[]; errors: number; waits: Map<string, number> };
    const newWindow = (): Window => ({ latencies: [], starts: [], errors: 0, waits: new Map() });
    let window = newWindow();
    let totalErrors = 0;
    const errorSamples: { minute: number; status: number; body: string }[] = [];
    let totalRequests = 0;
    // When the measured load began (reset after the saturation phase).
    let started = performance.now();
    /** Sends one batch; `record`: counts it in the minute's figures (not during the saturation phase). Resolves to whether it was accepted. */
    const send = async (record = true): Promise<boolean> => {
      const body = JSON.stringify({ events: Array.from({ length: BATCH }, () => newEvent(teams)) });
      const auth = await freshToken();
      const t0 = performance.now();
      // The answer's body is kept only for an error: what went wrong goes into the results.
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve) => {
        const req = request(
          { agent, host: '127.0.0.1', port: apiProc.port, path: '/v1/usage', method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => res.statusCode !== 200 && chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, 300) }));
            res.on('error', (e) => resolve({ status: 0, text: e.message }));
          },
        );
        req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
        req.on('error', (e) => resolve({ status: 0, text: e.message }));
        req.end(body);
      });
      if (!record) return status === 200;
      const w = window;
      w.latencies.push(performance.now() - t0);
      w.starts.push(t0);
      totalRequests++;
      if (status !== 200) {
        w.errors++;
        totalErrors++;
        if (errorSamples.length < 20) errorSamples.push({ minute: Math.floor((t0 - started) / SAMPLE_MS) + 1, status, body: text });
        ctx.log(`error: ${status} ${text}`);
      }
      return status === 200;
    };

    const dbSizes = async () => {
      const [r] = await admin<{ tables: string; indexes: string; events: string }[]>`
        select sum(pg_table_size(c.oid))::text as tables, sum(pg_indexes_size(c.oid))::text as indexes,
               (select n_live_tup from pg_stat_user_tables where relname = 'usage_events')::text as events
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and n.nspname = 'public'`;
      return { tables: Number(r!.tables) / MB, indexes: Number(r!.indexes) / MB, events: Number(r!.events) };
    };
    const sample = async (minute: number): Promise<Minute> => {
      const w = window;
      window = newWindow();
      const sorted = [...w.latencies].sort((a, b) => a - b);
      const slowest = w.latencies
        .map((ms, i) => ({ ms: round(ms), at_s: round((((w.starts[i]! - started) / 1000) % periodSeconds), 1) }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 10);
      const db_waits = Object.fromEntries([...w.waits].sort((a, b) => b[1] - a[1]).slice(0, 5));
      const [apiMetrics, workerMetrics, db, paid] = await Promise.all([
        metricsText(`${http.base}/metrics`, ADMIN_TOKEN),
        metricsText(`http://127.0.0.1:${workerProc.port}/metrics`),
        dbSizes(),
        admin<{ n: number }[]>`select count(*)::int as n from invoices where subscription_id = any(${world.subscriptionIds}) and status = 'paid'`,
      ]);
      return {
        minute,
        requests: w.latencies.length,
        errors: w.errors,
        p50_ms: round(percentile(sorted, 50)),
        p99_ms: round(percentile(sorted, 99)),
        loadavg1: round(loadavg()[0]!, 2),
        api_rss_mb: round(rssBytes(api.child.pid) / MB),
        api_heap_used_mb: round(promValue(apiMetrics, 'nodejs_heap_size_used_bytes') / MB),
        api_heap_total_mb: round(promValue(apiMetrics, 'nodejs_heap_size_total_bytes') / MB),
        worker_rss_mb: round(rssBytes(worker.child.pid) / MB),
        worker_heap_used_mb: round(promValue(workerMetrics, 'nodejs_heap_size_used_bytes') / MB),
        worker_heap_total_mb: round(promValue(workerMetrics, 'nodejs_heap_size_total_bytes') / MB),
        worker_cached_workflows: promValue(workerMetrics, 'temporal_worker_cached_workflows'),
        db_tables_mb: round(db.tables),
        db_indexes_mb: round(db.indexes),
        usage_events: db.events,
        invoices_paid: paid[0]!.n,
        db_waits,
        slowest,
      };
    };

    /** Accepted events per second with SATURATION_IN_FLIGHT batches always in flight, for `seconds`. */
    const closedLoop = async (seconds: number) => {
      const end = performance.now() + seconds * 1000;
      let accepted = 0;
      await Promise.all(
        Array.from({ length: SATURATION_IN_FLIGHT }, async () => {
          while (performance.now() < end) if (await send(false)) accepted += BATCH;
        }),
      );
      return accepted / seconds;
    };
    let rate = fixedRate;
    let saturation: number | null = null;
    if (rate <= 0) {
      await closedLoop(SATURATION_WARMUP_SECONDS);
      saturation = Math.round(await closedLoop(SATURATION_SECONDS));
      rate = Math.round(saturation / 2);
      ctx.log(`saturation in this setting: ${saturation} events/s (${SATURATION_IN_FLIGHT} batches in flight for ${SATURATION_SECONDS}s)`);
    }
    ctx.log(`load: ${rate} events/s in batches of ${BATCH} for ${minutes} min, from ${new Date().toISOString()} (the phase of the slowest requests counts from here)`);

    const series: Minute[] = [];
    const start = await dbSizes();
    started = performance.now();
    const deadline = started + minutes * SAMPLE_MS;
    // Where time goes when latency spikes: what the api's and worker's sessions are waiting on
    // (a lock, I/O, WAL), counted per minute. Cheap: one read of pg_stat_activity per sample.
    waitSampler = setInterval(() => {
      const w = window;
      admin<{ w: string }[]>`
        select coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' ' || coalesce(application_name, '') as w
        from pg_stat_activity
        where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid() and application_name not like 'bench-soak%'`
        .then((rows) => rows.forEach((r) => w.waits.set(r.w, (w.waits.get(r.w) ?? 0) + 1)))
        .catch(() => undefined);
    }, WAIT_SAMPLE_MS);
    // The sampler runs beside the load, never in its way: a sample takes a few database reads.
    const sampler = (async () => {
      for (let k = 1; k <= minutes; k++) {
        await new Promise((r) => setTimeout(r, Math.max(0, started + k * SAMPLE_MS - performance.now())));
        const m = await sample(k);
        series.push(m);
        ctx.log(
          `min ${m.minute}: ${m.requests} req, ${m.errors} err, p50 ${m.p50_ms} p99 ${m.p99_ms} ms, load ${m.loadavg1}; ` +
            `api rss ${m.api_rss_mb} heap ${m.api_heap_used_mb}/${m.api_heap_total_mb} MB; worker rss ${m.worker_rss_mb} heap ${m.worker_heap_used_mb}/${m.worker_heap_total_mb} MB, ${m.worker_cached_workflows} cached; ` +
            `db ${m.db_tables_mb}+${m.db_indexes_mb} MB, ~${m.usage_events} events, ${m.invoices_paid} paid; ` +
            `waits ${JSON.stringify(m.db_waits)}; slowest ${m.slowest.slice(0, 5).map((x) => `${x.ms}ms@${x.at_s}s`).join(' ')}`,
        );
      }
    })();
    const inFlight = new Set<Promise<boolean>>();
    for (let i = 0; ; i++) {
      const due = started + (i * 1000 * BATCH) / rate;
      if (due >= deadline) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = send().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await sampler;
    ctx.detail.minutes = series;
    ctx.detail.errors = errorSamples;

    const base = series[Math.min(BASELINE_MINUTE, series.length) - 1]!;
    const last = series[series.length - 1]!;
    const growth = (a: number, b: number) => round(((b - a) / a) * 100, 1);
    const steady = series.slice(Math.min(BASELINE_MINUTE, series.length) - 1);
    const p99s = steady.map((m) => m.p99_ms);
    const loads = series.map((m) => m.loadavg1);
    return {
      minutes: series.length,
      saturation_events_per_s: saturation ?? 'not measured (--rate)',
      rate_events_per_s: rate,
      closes: staggered ? 'staggered' : 'aligned',
      requests: totalRequests,
      errors: totalErrors,
      subscribers,
      period_seconds: periodSeconds,
      invoices_paid: last.invoices_paid,
      api_rss_mb_min5: base.api_rss_mb,
      api_rss_mb_last: last.api_rss_mb,
      api_rss_growth_pct: growth(base.api_rss_mb, last.api_rss_mb),
      api_heap_used_mb_min5: base.api_heap_used_mb,
      api_heap_used_mb_last: last.api_heap_used_mb,
      worker_rss_mb_min5: base.worker_rss_mb,
      worker_rss_mb_last: last.worker_rss_mb,
      worker_rss_growth_pct: growth(base.worker_rss_mb, last.worker_rss_mb),
      worker_heap_used_mb_min5: base.worker_heap_used_mb,
      worker_heap_used_mb_last: last.worker_heap_used_mb,
      worker_cached_workflows_last: last.worker_cached_workflows,
      p99_ms_min: Math.min(...p99s),
      p99_ms_max: Math.max(...p99s),
      p99_max_over_min: round(Math.max(...p99s) / Math.max(1, Math.min(...p99s)), 2),
      loadavg1_min: Math.min(...loads),
      loadavg1_max: Math.max(...loads),
      db_tables_mb_growth: round(last.db_tables_mb - start.tables),
      db_indexes_mb_growth: round(last.db_indexes_mb - start.indexes),
      usage_events_stored: last.usage_events,
      rss_growth_within_10pct: growth(base.api_rss_mb, last.api_rss_mb) <= 10 && growth(base.worker_rss_mb, last.worker_rss_mb) <= 10,
      p99_flat_within_2x: Math.max(...p99s) <= 2 * Math.min(...p99s),
      zero_errors: totalErrors === 0,
    };
  } finally {
    clearInterval(waitSampler);
    await simulation?.stop();
    await api.stop();
    await worker.stop();
    await admin.end({ timeout: 5 });
  }
}
