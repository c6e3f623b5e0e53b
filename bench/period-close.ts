/**
 * `npm run bench -- period-close [subscriptions] [events]`: closes 1,000 subscription periods with
 * 100,000 usage events end to end on the Temporal dev server: rating, invoice, ledger, usage lines
 * pushed to Stripe (stripe-mock), reconciliation, payment, all driven by signed webhooks as Stripe
 * would send them. Every period ends at the same instant, so the figure is the capacity to close, not
 * the arrival rate. In the same run, on the same server: empty workflows per second, the baseline.
 *
 * Setup inserts the teams with their Stripe customers directly (provisioning is not measured);
 * checkouts, usage and everything after go through the api, the workflows and Stripe.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createSql } from '../src/shared/db.js';
import { dataDir, PROJECT_ROOT } from '../src/shared/paths.js';
import { verifyLedger } from '../src/ledger/verify.js';
import { buildApi } from '../test/helpers/api.js';
import { teamPlan } from '../test/helpers/plans.js';
import { StripeSimulator } from '../test/helpers/stripe-simulator.js';
import { sendEvent, subscriptionEvent } from '../test/helpers/stripe-webhooks.js';
import { appToken } from '../test/helpers/tokens.js';
import { spawnWorker, stopWorker } from '../test/helpers/worker-process.js';
import { DEFAULT_SUBSCRIPTION_TIMING } from '../src/orchestration/subscriptions.js';
import type { BenchContext, BenchFigures } from './index.js';

const EVENTS_PER_BATCH = 100;
const SETUP_CONCURRENCY = 16;
const EMPTY_WORKFLOWS = 1_000;
/** Time allowed per subscription for its period move to be applied: about twice what the 2-core machine needed (1,000 moves in 45 s); the run logs the time taken. */
const PERIOD_MOVE_LEAD_MS_PER_SUBSCRIPTION = 100;

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function run({ services, args, log }: BenchContext): Promise<BenchFigures> {
  const subscriptions = Number(args[0] ?? 1_000);
  const events = Number(args[1] ?? 100_000);
  const admin = createSql(services.adminDbUrl, { applicationName: 'bench-admin', max: 4 });
  const app = createSql(services.appDbUrl, { applicationName: 'bench-api', max: 20 });
  const connection = await Connection.connect({ address: services.temporalAddress });
  const client = new Client({ connection, namespace: services.namespace });
  const taskQueue = `bench-close-${randomBytes(3).toString('hex')}`;
  const api = buildApi({ sql: app, temporal: client, stripeApiUrl: services.stripeApiUrl, taskQueue, timing: DEFAULT_SUBSCRIPTION_TIMING });
  const worker = spawnWorker(services, taskQueue, { maxConcurrentActivities: 100 });
  const send = async (event: Record<string, unknown>) => {
    const res = await sendEvent(api, event);
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  };
  const teamIds: string[] = [];
  const sim = new StripeSimulator(admin, services.stripeRecorderUrl, send, { concurrency: 16, teamIds: () => teamIds });
  const simulation = sim.run(250);
  try {
    // Setup: a plan, an app, the teams with their Stripe customers.
    const planCode = `bench${randomBytes(3).toString('hex')}`;
    if ((await api.admin('POST', '/admin/plans', teamPlan(planCode))).status !== 201) throw new Error('plan not published');
    const appId = `app_${randomBytes(4).toString('hex')}`;
    const { secret } = (await (await api.admin('POST', '/admin/apps', { appId, name: 'Bench app' })).json()) as { secret: string };
    teamIds.push(...Array.from({ length: subscriptions }, (_, i) => `bench_${planCode}_${i}`));
    await admin`insert into teams ${admin(teamIds.map((id) => ({ id, name: id, kind: 'shared', currency: 'USD', request_hash: Buffer.alloc(32) })))}`;
    await admin`insert into team_apps ${admin(teamIds.map((id) => ({ team_id: id, app_id: appId })))}`;
    await admin`insert into billing_customers ${admin(teamIds.map((id) => ({ team_id: id, stripe_customer_id: `cus_${id}`, idempotency_key: `team:${id}:stripe-customer` })))}`;

    log(`setup: ${subscriptions} checkouts`);
    const setupStarted = Date.now();
    const subscriptionIds: string[] = [];
    await pool(teamIds, SETUP_CONCURRENCY, async (teamId) => {
      const token = await appToken({ appId, secret, teamId, scopes: ['checkout:write'] });
      const res = await api.request('POST', `/v1/teams/${teamId}/checkout`, {
        token,
        headers: { 'idempotency-key': `bench-${teamId}` },
        body: { planCode, seats: 3, successUrl: 'https://bench.example/ok', cancelUrl: 'https://bench.example/no' },
      });
      if (res.status !== 201) throw new Error(`checkout ${res.status}: ${await res.text()}`);
      subscriptionIds.push(((await res.json()) as { subscriptionId: string }).subscriptionId);
    });
    await until(async () => (await admin`select 1 from subscriptions where id = any(${subscriptionIds}) and status = 'active'`).length === subscriptions, 300_000, 'activations');

    log(`setup: ${events} usage events`);
    const ingestToken = await appToken({ appId, secret, scopes: ['usage:write'] });
    const batches = Array.from({ length: Math.ceil(events / EVENTS_PER_BATCH) }, (_, b) => b);
    await pool(batches, 8, async (b) => {
      const body = {
        events: Array.from({ length: Math.min(EVENTS_PER_BATCH, events - b * EVENTS_PER_BATCH) }, (_, i) => ({
          idempotencyKey: `bench-${b}-${i}`,
          eventType: 'llm.tokens.v1',
          timestamp: new Date().toISOString(),
          teamId: teamIds[(b * EVENTS_PER_BATCH + i) % subscriptions]!,
          payload: { provider: 'openai', model: 'gpt-5', inputTokens: 2_000 + ((b + i) % 7) * 1_000, outputTokens: 500 },
          source: 'bench/1.0',
        })),
      };
      const res = await api.request('POST', '/v1/usage', { token: ingestToken, body });
      if (res.status !== 200) throw new Error(`usage ${res.status}: ${await res.text()}`);
    });
    const setupS = (Date.now() - setupStarted) / 1000;

    // Stripe moves every current period to end at one instant, far enough ahead that every update
    // has been applied by then on a slow machine (a period that ends before its update arrives would
    // close early and spoil the common start). The measurement starts at that instant, so the lead
    // time is not in the figures.
    const moveStarted = Date.now();
    const leadMs = Math.max(15_000, subscriptions * PERIOD_MOVE_LEAD_MS_PER_SUBSCRIPTION);
    const periodEnd = new Date(Math.ceil((Date.now() + leadMs) / 1000) * 1000);
    const rows = await admin<{ id: string; stripe_subscription_id: string; current_period_start: Date; stripe_items: Record<string, string> }[]>`
      select id, stripe_subscription_id, current_period_start, stripe_items from subscriptions where id = any(${subscriptionIds})`;
    await pool(rows, 16, (r) =>
      send(subscriptionEvent('customer.subscription.updated', {
        stripeSubscriptionId: r.stripe_subscription_id,
        subscriptionId: r.id,
        items: Object.values(r.stripe_items).map((id) => ({ id, priceId: 'price_unchanged', quantity: 1 })),
        periodStart: r.current_period_start.toISOString(),
        periodEnd: periodEnd.toISOString(),
      })),
    );
    await until(async () => (await admin`select 1 from subscriptions where id = any(${subscriptionIds}) and current_period_end = ${periodEnd}`).length === subscriptions, leadMs, 'period ends moved before they came');
    log(`all ${subscriptions} periods end at ${periodEnd.toISOString()} (moved in ${((Date.now() - moveStarted) / 1000).toFixed(1)}s); closing`);

    // Measured: from the common period end to the last invoice paid.
    await until(async () => (await admin`select 1 from invoices where subscription_id = any(${subscriptionIds}) and status = 'paid'`).length === subscriptions, 600_000, 'paid invoices');
    const [last] = await admin<{ at: Date }[]>`select max(paid_at) as at from invoices where subscription_id = any(${subscriptionIds})`;
    const [done] = await admin<{ at: Date }[]>`select max(updated_at) as at from invoices where subscription_id = any(${subscriptionIds})`;
    const totalS = (Math.max(last!.at.getTime(), done!.at.getTime()) - periodEnd.getTime()) / 1000;
    const [money] = await admin<{ cents: bigint; lines: number }[]>`
      select sum(i.total_cents)::bigint as cents, sum((select count(*) from invoice_lines l where l.invoice_id = i.id))::int as lines
      from invoices i where i.subscription_id = any(${subscriptionIds})`;
    const verify = await verifyLedger(admin);

    // Baseline on the same server: empty workflows started and completed per second.
    const emptyPerS = await emptyWorkflowsPerSecond(services.temporalAddress, services.namespace);
    const closesPerS = subscriptions / totalS;
    return {
      subscriptions,
      usage_events: events,
      setup_s: Math.round(setupS * 10) / 10,
      total_s: Math.round(totalS * 10) / 10,
      closes_per_s: Math.round(closesPerS * 100) / 100,
      empty_workflows_per_s: Math.round(emptyPerS * 10) / 10,
      ratio_to_empty: Math.round((closesPerS / emptyPerS) * 1000) / 1000,
      invoices_total_usd: (Number(money!.cents) / 100).toFixed(2),
      invoice_lines: money!.lines,
      webhooks_sent: sim.sent,
      ledger_verify_ok: verify.ok,
      within_5_minutes: totalS <= 300,
    };
  } finally {
    await simulation.stop();
    await stopWorker(worker);
    await Promise.allSettled([admin.end(), app.end(), connection.close()]);
  }
}

async function emptyWorkflowsPerSecond(address: string, namespace: string): Promise<number> {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed */
  }
  const codePath = join(dataDir(), 'bench', 'empty-workflow-bundle.js');
  writeFileSync(codePath, (await bundleWorkflowCode({ workflowsPath: join(PROJECT_ROOT, 'bench', 'workflows', 'empty.ts') })).code);
  const taskQueue = `bench-empty-${randomBytes(3).toString('hex')}`;
  const native = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection: native, namespace, taskQueue, workflowBundle: { codePath } });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const started = Date.now();
  const ids = Array.from({ length: EMPTY_WORKFLOWS }, (_, i) => `empty-${taskQueue}-${i}`);
  await pool(ids, SETUP_CONCURRENCY, async (workflowId) => {
    await client.workflow.execute('emptyWorkflow', { taskQueue, workflowId, args: [] });
  });
  const perS = EMPTY_WORKFLOWS / ((Date.now() - started) / 1000);
  worker.shutdown();
  await running;
  await Promise.allSettled([connection.close(), native.close()]);
  return perS;
}
