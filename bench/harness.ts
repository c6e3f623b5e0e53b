/**
 * What the soak and chaos benchmarks share: the api and the worker as child processes configured as
 * in production (so they can be measured and SIGKILLed), the api reached over real HTTP, a world of
 * subscribed teams built through the api with a simulated Stripe answering, and readings of a
 * process's memory.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from '../src/shared/db.js';
import { dataDir, PROJECT_ROOT } from '../src/shared/paths.js';
import { freePort, startProcess, waitForPort, type ManagedProcess } from '../src/dev/processes.js';
import { teamPlan } from '../test/helpers/plans.js';
import { TEST_ADMIN_TOKEN, TEST_SECRETS_KEY, TEST_WEBHOOK_SECRET } from '../test/helpers/constants.js';
import { StripeSimulator } from '../test/helpers/stripe-simulator.js';
import { sendEvent } from '../test/helpers/stripe-webhooks.js';
import { appToken } from '../test/helpers/tokens.js';

export const ADMIN_TOKEN = TEST_ADMIN_TOKEN;

export interface Endpoints {
  appDbUrl: string;
  temporalAddress: string;
  stripeApiUrl: string;
  bundlePath: string;
}

export interface ProcessSpec {
  name: 'api' | 'worker';
  port: number;
  start(): ManagedProcess;
}

const common = (e: Endpoints) => ({
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  DATABASE_URL: e.appDbUrl,
  TEMPORAL_ADDRESS: e.temporalAddress,
  STRIPE_SECRET_KEY: 'sk_test_bench',
  STRIPE_API_URL: e.stripeApiUrl,
  SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
});

/** The api process on a fixed port (a restart keeps it), periods of `periodSeconds`. */
export async function apiSpec(e: Endpoints, opts: { taskQueue: string; periodSeconds: number; label: string; env?: NodeJS.ProcessEnv }): Promise<ProcessSpec> {
  const port = await freePort();
  return {
    name: 'api',
    port,
    start: () =>
      startProcess('api', process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/api/server.ts')], {
        cwd: PROJECT_ROOT,
        logFile: join(dataDir(), 'bench', `${opts.label}-api.log`),
        env: {
          ...common(e),
          STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
          ADMIN_TOKEN,
          API_HOST: '127.0.0.1',
          API_PORT: String(port),
          TEMPORAL_TASK_QUEUE: opts.taskQueue,
          BILLING_PERIOD_SECONDS: String(opts.periodSeconds),
          ...opts.env,
        },
      }),
  };
}

/** The worker process, its /metrics on `port`. */
export async function workerSpec(e: Endpoints, opts: { taskQueue: string; label: string; env?: NodeJS.ProcessEnv }): Promise<ProcessSpec> {
  const port = await freePort();
  return {
    name: 'worker',
    port,
    start: () =>
      startProcess('worker', process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/workers/billing.ts')], {
        cwd: PROJECT_ROOT,
        logFile: join(dataDir(), 'bench', `${opts.label}-worker.log`),
        env: { ...common(e), TEMPORAL_TASK_QUEUE: opts.taskQueue, WORKFLOW_BUNDLE_PATH: e.bundlePath, WORKER_METRICS_PORT: String(port), ...opts.env },
      }),
  };
}

export async function waitReady(spec: ProcessSpec, timeoutMs = 90_000): Promise<void> {
  await waitForPort('127.0.0.1', spec.port, timeoutMs);
}

/** The api over HTTP, shaped like the tests' in-process api so the webhook helpers work with it. */
export function httpApi(port: number) {
  const base = `http://127.0.0.1:${port}`;
  const request = async (method: string, path: string, o: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {}): Promise<Response> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    return fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
  };
  return { base, request, admin: (method: string, path: string, body?: unknown) => request(method, path, { body, token: ADMIN_TOKEN }) };
}
export type HttpApi = ReturnType<typeof httpApi>;

/** Resident set size of a process, in bytes (Linux /proc); 0 when it is gone. */
export function rssBytes(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** One sample of a Prometheus text exposition (the first series of that name). */
export function promValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function metricsText(url: string, token?: string): Promise<string> {
  try {
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

export async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export interface World {
  appId: string;
  secret: string;
  /** Teams with a subscription (short periods), then the usage-only teams. */
  subscribedTeams: string[];
  usageTeams: string[];
  subscriptionIds: string[];
  planCode: string;
}

/**
 * An app, `usageTeams` teams that only report usage, and `subscribers` teams with a live subscription
 * (checkout through the api, Stripe's side played by the simulator), cost rates for every provider.
 */
export async function buildWorld(api: HttpApi, admin: Sql, opts: { usageTeams: number; subscribers: number; label: string }): Promise<World> {
  const planCode = `${opts.label}${randomBytes(3).toString('hex')}`;
  const plan = await api.admin('POST', '/admin/plans', teamPlan(planCode));
  if (plan.status >= 300) throw new Error(`plan: ${plan.status} ${await plan.text()}`);
  const appId = `app_${opts.label}_${randomBytes(3).toString('hex')}`;
  const created = await api.admin('POST', '/admin/apps', { appId, name: `${opts.label} app` });
  if (created.status >= 300) throw new Error(`app: ${created.status} ${await created.text()}`);
  const { secret } = (await created.json()) as { secret: string };
  const subscribedTeams = Array.from({ length: opts.subscribers }, (_, i) => `${appId}_s${i}`);
  const usageTeams = Array.from({ length: opts.usageTeams }, (_, i) => `${appId}_u${i}`);
  const all = [...subscribedTeams, ...usageTeams];
  await admin`insert into teams ${admin(all.map((id) => ({ id, name: id, kind: 'shared', currency: 'USD', request_hash: Buffer.alloc(32) })))}`;
  await admin`insert into team_apps ${admin(all.map((id) => ({ team_id: id, app_id: appId })))}`;
  // Provisioning is not what these runs are about: the Stripe customers exist already.
  if (subscribedTeams.length > 0) {
    await admin`insert into billing_customers ${admin(subscribedTeams.map((id) => ({ team_id: id, stripe_customer_id: `cus_${id}`, idempotency_key: `team:${id}:stripe-customer` })))}`;
  }
  const rates: Array<[string, string | null, string, string, string]> = [
    ['openai', null, 'llm.input_tokens', '1.25', '1000000'],
    ['openai', null, 'llm.output_tokens', '10', '1000000'],
    ['anthropic', null, 'llm.input_tokens', '3', '1000000'],
    ['anthropic', null, 'llm.output_tokens', '15', '1000000'],
    ['cloudflare', null, 'bandwidth.bytes', '0.01', '1000000000'],
    ['openai', 'gpt-image-1', 'image.generations', '0.04', '1'],
    ['aws-s3', null, 'storage.bytes', '0.023', '1000000000'],
  ];
  for (const [provider, model, meter, unitCost, per] of rates) {
    const res = await api.admin('POST', '/admin/cost-rates', { provider, model, meter, unitCost, per, effectiveFrom: '2020-01-01T00:00:00Z' });
    if (res.status >= 300) throw new Error(`cost rate: ${res.status} ${await res.text()}`);
  }
  const subscriptionIds: string[] = [];
  await pool(subscribedTeams, 8, async (teamId) => {
    const token = await appToken({ appId, secret, teamId, scopes: ['checkout:write'] });
    const res = await api.request('POST', `/v1/teams/${teamId}/checkout`, {
      token,
      headers: { 'idempotency-key': `co-${teamId}` },
      body: { planCode, seats: 3, successUrl: 'https://bench.example/ok', cancelUrl: 'https://bench.example/no' },
    });
    if (res.status !== 201) throw new Error(`checkout ${res.status}: ${await res.text()}`);
    subscriptionIds.push(((await res.json()) as { subscriptionId: string }).subscriptionId);
  });
  return { appId, secret, subscribedTeams, usageTeams, subscriptionIds, planCode };
}

/**
 * Stripe's side: signed webhooks to the api over HTTP; a failed send is retried on the next pass.
 * `staggered`: the teams' checkouts complete one by one over one period (team i of n at i/n of a
 * period), so their periods end spread over the period, as subscriptions started at different
 * moments do; otherwise all complete together, and all their periods end in the same second.
 */
export function simulatedStripe(admin: Sql, recorderUrl: string, api: HttpApi, teams: () => readonly string[], periodSeconds: number, staggered = false) {
  const periodMs = periodSeconds * 1000;
  const began = Date.now();
  // The simulator serves only the teams it is given: a team's checkout completes once it is in.
  const served = () => {
    const all = teams();
    return staggered ? all.slice(0, Math.floor(((Date.now() - began) * all.length) / periodMs) + 1) : all;
  };
  const sim = new StripeSimulator(
    admin,
    recorderUrl,
    async (event) => {
      const res = await sendEvent(api, event);
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    },
    { teamIds: served, firstPeriodEnd: () => new Date(Date.now() + periodMs), concurrency: 8 },
  );
  return sim;
}
