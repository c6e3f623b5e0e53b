/**
 * `npm run bench -- chaos [--minutes N | --kills N] [--subscribers 10] [--period-seconds 20] [--reporters 4]`
 *
 * Crash safety under mixed load, on a stack of its own (bench/chaos-stack.ts): retrying SDK usage
 * reporters (sdk/, same idempotency keys on every retry), subscriptions whose short periods close
 * all along (rating, invoice, ledger, Stripe calls, payment webhooks from the simulated Stripe), and
 * seat changes. Meanwhile the api or the worker is SIGKILLed at random (default 100 times) and
 * restarted, and the Temporal dev server and Postgres are each restarted 3 times. Then the load
 * stops, every ended period is left to settle, and it checks:
 *
 * - events: every event an SDK reporter was told was counted (accepted or duplicate) is stored once
 *   (events_lost, events_double), and every counter equals an independent recount from the raw events;
 * - periods: each ended period has one invoice, posted to the ledger once;
 * - Stripe: one idempotency key per intended charge. The keys are those the product sent, as recorded
 *   by the recorder in front of stripe-mock, which runs in this process and outlives every kill: a key
 *   used for two different requests, or one invoice line pushed under two keys, is a double charge;
 * - `ledger:verify` (verifyLedger) is green.
 *
 * The last line is the figures as JSON; bench/results/chaos.json keeps them.
 */
import { createBillingClient } from '../sdk/src/index.js';
import { verifyLedger } from '../src/ledger/verify.js';
import { createSql, type Sql } from '../src/shared/db.js';
import type { ManagedProcess } from '../src/dev/processes.js';
import { foldCogs } from '../src/usage/cogs-fold.js';
import { recountUsage } from '../src/usage/recount.js';
import { appToken } from '../test/helpers/tokens.js';
import { startChaosStack, type ChaosStack } from './chaos-stack.js';
import { apiSpec, buildWorld, httpApi, simulatedStripe, until, waitReady, workerSpec, type ProcessSpec, type World } from './harness.js';
import type { BenchContext, BenchFigures } from './index.js';

const INFRA_RESTARTS = 3;
const SETTLE_TIMEOUT_MS = 300_000;

function option(args: string[], name: string): number | undefined {
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  if (eq) return Number(eq.slice(name.length + 3));
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

/** Retries a read through a Postgres restart. */
async function db<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 30) throw err;
      await sleep(1_000);
    }
  }
}

/** api or worker: restarted when it dies on its own (counted as a crash), SIGKILLed on demand. */
class Supervised {
  proc: ManagedProcess;
  crashes = 0;
  private killing = false;
  private stopped = false;

  constructor(readonly spec: ProcessSpec) {
    this.proc = this.launch();
  }

  private launch(): ManagedProcess {
    const proc = this.spec.start();
    void proc.exited.then(async () => {
      if (this.stopped || this.killing || proc !== this.proc) return;
      this.crashes++;
      await sleep(500);
      if (!this.stopped && proc === this.proc) this.proc = this.launch();
    });
    return proc;
  }

  async kill(): Promise<void> {
    this.killing = true;
    try {
      process.kill(-this.proc.child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await this.proc.exited;
    this.proc = this.launch();
    this.killing = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.proc.stop();
  }
}

interface Acks {
  acked: Map<string, string>;
  notCounted: Record<string, number>;
  tracked: number;
}

/** One SDK reporter: tracks a round of events, flushes (retrying until answered), remembers the answers. */
async function reporterLoop(world: World, baseUrl: string, acks: Acks, running: () => boolean): Promise<void> {
  const client = createBillingClient({ appId: world.appId, secret: world.secret, baseUrl, timeoutMs: 10_000 });
  // Only flush() sends (a large batch and a long interval), so every answer comes back through it.
  const reporter = client.usageReporter({ maxBatch: 200, flushIntervalMs: 3_600_000, retryBaseMs: 100, retryMaxMs: 2_000, source: 'chaos/1.0' });
  const teams = [...world.subscribedTeams, ...world.usageTeams];
  while (running()) {
    const n = 20 + Math.floor(Math.random() * 60);
    for (let i = 0; i < n; i++) {
      const teamId = pick(teams);
      if (Math.random() < 0.7) {
        reporter.track({ eventType: 'llm.tokens.v1', teamId, payload: { provider: pick(['openai', 'anthropic']), model: pick(['gpt-5', 'claude-sonnet']), inputTokens: 100 + Math.floor(Math.random() * 5_000), outputTokens: Math.floor(Math.random() * 800) } });
      } else {
        reporter.track({ eventType: 'bandwidth.bytes.v1', teamId, payload: { provider: 'cloudflare', direction: pick(['ingress', 'egress']), bytes: Math.floor(Math.random() * 5_000_000) } });
      }
      acks.tracked++;
    }
    for (const r of await reporter.flush()) {
      if (r.status === 'accepted' || r.status === 'duplicate') acks.acked.set(r.idempotencyKey, r.status);
      else acks.notCounted[`${r.status}:${r.reason ?? ''}`] = (acks.notCounted[`${r.status}:${r.reason ?? ''}`] ?? 0) + 1;
    }
    await sleep(50 + Math.random() * 200);
  }
  await reporter.shutdown({ timeoutMs: 1_000 });
}

/** Seat changes through the api, each retried with its key until answered. */
async function seatLoop(world: World, api: ReturnType<typeof httpApi>, running: () => boolean, tally: { sent: number; accepted: number }): Promise<void> {
  for (let n = 0; running(); n++) {
    const teamId = pick(world.subscribedTeams);
    const seats = 2 + Math.floor(Math.random() * 6);
    const key = `chaos-seats-${n}`;
    tally.sent++;
    for (let attempt = 0; attempt < 60 && running(); attempt++) {
      const token = await appToken({ appId: world.appId, secret: world.secret, teamId, scopes: ['subscription:write'] });
      const res = await api.request('POST', `/v1/teams/${teamId}/subscription/seats`, { token, headers: { 'idempotency-key': key }, body: { seats } }).catch(() => null);
      if (res && res.status < 500) {
        if (res.status === 202) tally.accepted++;
        break;
      }
      await sleep(500);
    }
    await sleep(2_000 + Math.random() * 3_000);
  }
}

/** Ended periods (of the subscriptions) without a paid invoice: what settling waits for. */
async function unsettled(admin: Sql, world: World): Promise<number> {
  const [r] = await admin<{ n: number }[]>`
    select count(*)::int as n from billing_periods bp
    where bp.team_id = any(${world.subscribedTeams}) and bp.source = 'explicit' and bp.period_end < now() - interval '5 seconds'
      and not exists (select 1 from invoices i where i.team_id = bp.team_id and i.period_end = bp.period_end and i.status = 'paid')`;
  return r!.n;
}

export async function runOwn(ctx: Omit<BenchContext, 'services'>): Promise<BenchFigures> {
  const killsWanted = option(ctx.args, 'kills') ?? 100;
  const minutes = option(ctx.args, 'minutes') ?? 12;
  const subscribers = option(ctx.args, 'subscribers') ?? 10;
  const periodSeconds = option(ctx.args, 'period-seconds') ?? 20;
  const reporters = option(ctx.args, 'reporters') ?? 4;
  const stack: ChaosStack = await startChaosStack(ctx.log);
  const admin = createSql(stack.adminDbUrl, { applicationName: 'bench-chaos-admin', max: 4 });
  const taskQueue = `chaos-${Date.now().toString(36)}`;
  const api = new Supervised(await apiSpec(stack, { taskQueue, periodSeconds, label: 'chaos' }));
  const worker = new Supervised(await workerSpec(stack, { taskQueue, label: 'chaos' }));
  let simulation: { stop(): Promise<void> } | null = null;
  try {
    await Promise.all([waitReady(api.spec), waitReady(worker.spec)]);
    const http = httpApi(api.spec.port);
    const world = await buildWorld(http, admin, { usageTeams: 40, subscribers, label: 'chaos' });
    simulation = simulatedStripe(admin, stack.stripeRecorderUrl, http, () => world.subscribedTeams, periodSeconds).run(500);
    await until(async () => (await admin`select 1 from subscriptions where id = any(${world.subscriptionIds}) and status = 'active'`).length === subscribers, 300_000, 'subscriptions active');
    ctx.log(`${subscribers} subscriptions live (periods of ${periodSeconds}s); ${reporters} SDK reporters; ${killsWanted} kills over ${minutes} min`);

    let loadRunning = true;
    const acks: Acks = { acked: new Map(), notCounted: {}, tracked: 0 };
    const seatTally = { sent: 0, accepted: 0 };
    const loads = [
      ...Array.from({ length: reporters }, () => reporterLoop(world, http.base, acks, () => loadRunning)),
      seatLoop(world, http, () => loadRunning, seatTally),
    ];

    // The schedule: kills spread over the run, infrastructure restarts at fixed fractions of it.
    const started = Date.now();
    const runMs = minutes * 60_000;
    const infra: Array<{ at: number; what: 'postgres' | 'temporal' }> = [];
    for (let k = 0; k < INFRA_RESTARTS; k++) {
      infra.push({ at: started + runMs * ((k + 0.3) / INFRA_RESTARTS), what: 'temporal' });
      infra.push({ at: started + runMs * ((k + 0.7) / INFRA_RESTARTS), what: 'postgres' });
    }
    const restarts = { postgres: 0, temporal: 0 };
    const kills = { api: 0, worker: 0 };
    for (let k = 0; k < killsWanted; k++) {
      const due = started + (runMs * (k + Math.random())) / killsWanted;
      await sleep(Math.max(0, due - Date.now()));
      const next = infra[0];
      if (next && Date.now() >= next.at) {
        infra.shift();
        const t0 = Date.now();
        if (next.what === 'postgres') await stack.restartPostgres();
        else await stack.restartTemporal();
        restarts[next.what]++;
        ctx.log(`restarted ${next.what} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
      }
      const target = Math.random() < 0.5 ? api : worker;
      await waitReady(target.spec).catch(() => undefined);
      await target.kill();
      kills[target.spec.name]++;
      if ((k + 1) % 10 === 0) ctx.log(`${k + 1} kills (api ${kills.api}, worker ${kills.worker}); ${acks.acked.size} events acknowledged`);
    }
    for (const left of infra) {
      if (left.what === 'postgres') await stack.restartPostgres();
      else await stack.restartTemporal();
      restarts[left.what]++;
      ctx.log(`restarted ${left.what}`);
    }

    ctx.log('kills done; stopping the load (reporters flush until answered)');
    await Promise.all([waitReady(api.spec), waitReady(worker.spec)]);
    loadRunning = false;
    await Promise.race([Promise.all(loads), sleep(180_000)]);
    ctx.log(`settling: every ended period invoiced and paid (${await db(() => unsettled(admin, world))} left)`);
    await until(async () => (await unsettled(admin, world)) === 0, SETTLE_TIMEOUT_MS, 'ended periods invoiced and paid').catch((err: unknown) => ctx.log(String(err)));
    const periodsUnsettled = await db(() => unsettled(admin, world));
    await simulation.stop();
    simulation = null;
    await api.stop();
    await worker.stop();
    await db(() => foldCogs(admin, 'bench-chaos'));

    const figures = await check(admin, stack, world, acks, ctx.log);
    return {
      kills: kills.api + kills.worker,
      kills_api: kills.api,
      kills_worker: kills.worker,
      restarts: restarts.postgres + restarts.temporal,
      restarts_postgres: restarts.postgres,
      restarts_temporal: restarts.temporal,
      crashes_api: api.crashes,
      crashes_worker: worker.crashes,
      minutes: Math.round((Date.now() - started) / 6_000) / 10,
      events_tracked: acks.tracked,
      events_not_counted: JSON.stringify(acks.notCounted),
      seat_changes_sent: seatTally.sent,
      seat_changes_accepted: seatTally.accepted,
      periods_unsettled: periodsUnsettled,
      ...figures,
    };
  } finally {
    await simulation?.stop();
    await api.stop();
    await worker.stop();
    await admin.end({ timeout: 5 });
    await stack.stop();
  }
}

async function check(admin: Sql, stack: ChaosStack, world: World, acks: Acks, log: (m: string) => void): Promise<BenchFigures> {
  // Events: what the SDK was told against what Postgres holds.
  const stored = await admin<{ key: string; n: number }[]>`
    select idempotency_key as key, count(*)::int as n from usage_events where app_id = ${world.appId} group by idempotency_key`;
  const storedKeys = new Map(stored.map((r) => [r.key, r.n]));
  const lost = [...acks.acked.keys()].filter((k) => !storedKeys.has(k));
  const doubleRows = stored.filter((r) => r.n > 1).reduce((n, r) => n + r.n - 1, 0);
  const recount = await recountUsage(admin, [...world.subscribedTeams, ...world.usageTeams]);
  // An event counted twice shows as a counter with more events than the raw events explain.
  const overcounted = recount.mismatches.filter((m) => m.field === 'events').reduce((n, m) => n + Math.max(0, Number(m.stored) - Number(m.expected)), 0);
  for (const m of recount.mismatches.slice(0, 5)) log(`  recount mismatch ${JSON.stringify(m)}`);
  for (const k of lost.slice(0, 5)) log(`  lost event ${k}`);

  // Periods: one invoice each, one ledger posting each.
  const invoices = await admin<{ id: string; subscription_id: string; period_start: Date; status: string }[]>`
    select id, subscription_id, period_start, status from invoices where subscription_id = any(${world.subscriptionIds})`;
  const perPeriod = new Map<string, number>();
  for (const i of invoices) perPeriod.set(`${i.subscription_id}:${i.period_start.toISOString()}`, (perPeriod.get(`${i.subscription_id}:${i.period_start.toISOString()}`) ?? 0) + 1);
  const periodsInvoicedTwice = [...perPeriod.values()].filter((n) => n > 1).length;
  const postings = await admin<{ key: string; n: number }[]>`
    select idempotency_key as key, count(*)::int as n from ledger_transactions
    where scope = 'invoice' and idempotency_key = any(${invoices.map((i) => i.id)}) group by idempotency_key`;
  const postedTwice = postings.filter((p) => p.n > 1).length;
  const unposted = invoices.length - postings.length;

  // Stripe: the keys the product sent, as recorded in front of stripe-mock.
  const requests = stack.stripeRequests.filter((r) => r.method === 'POST');
  const byKey = new Map<string, Set<string>>();
  for (const r of requests) if (r.idempotencyKey) byKey.set(r.idempotencyKey, (byKey.get(r.idempotencyKey) ?? new Set()).add(`${r.path} ${r.body}`));
  const divergentKeys = [...byKey.values()].filter((bodies) => bodies.size > 1).length;
  // Invoice items: one key per (invoice, line) — a second key would be a second charge.
  const itemKeys = new Map<string, Set<string>>();
  for (const r of requests.filter((x) => x.path === '/v1/invoiceitems')) {
    const form = new URLSearchParams(r.body);
    const line = `${form.get('metadata[invoice_id]')}:${form.get('metadata[line_no]')}`;
    itemKeys.set(line, (itemKeys.get(line) ?? new Set()).add(r.idempotencyKey ?? `none:${r.seq}`));
  }
  const linesChargedTwice = [...itemKeys.values()].filter((keys) => keys.size > 1).length;
  const [pushed] = await admin<{ n: number }[]>`
    select count(*)::int as n from invoice_lines l join invoices i on i.id = l.invoice_id
    where i.subscription_id = any(${world.subscriptionIds}) and l.push_to_stripe and l.amount_cents <> 0 and l.stripe_invoice_item_id is not null`;
  const unkeyed = requests.filter((r) => !r.idempotencyKey && r.path.startsWith('/v1/invoice')).length;

  const ledger = await verifyLedger(admin);
  return {
    events_acked: acks.acked.size,
    events_stored: stored.length,
    events_lost: lost.length,
    events_double: doubleRows + overcounted,
    recount_mismatches: recount.mismatches.length,
    invoices: invoices.length,
    invoices_paid: invoices.filter((i) => i.status === 'paid').length,
    periods_invoiced_twice: periodsInvoicedTwice,
    invoices_posted_twice: postedTwice,
    invoices_unposted: unposted,
    stripe_requests: requests.length,
    stripe_keys: byKey.size,
    stripe_keys_reused_for_other_requests: divergentKeys,
    invoice_lines_pushed: pushed!.n,
    invoice_lines_charged_twice: linesChargedTwice,
    stripe_invoice_requests_without_key: unkeyed,
    double_charges: divergentKeys + linesChargedTwice + periodsInvoicedTwice + postedTwice,
    ledger_verify_ok: ledger.ok,
  };
}
