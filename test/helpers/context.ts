/**
 * Per-test-file access to the run's real services: database pools (application role and owner),
 * a Temporal client, workers on a task queue of the file's own, the api in process, Stripe via the
 * recorder. Everything opened here is closed after the file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { createSql, type Sql } from '../../src/shared/db.js';
import { createStripe, type Stripe } from '../../src/shared/stripe.js';
import { createActivities } from '../../src/activities/index.js';
import { buildApi, type TestApi } from './api.js';
import type { SubscriptionTiming } from '../../src/workflows/subscription-messages.js';

export const services = inject('services');

export { TEST_ADMIN_TOKEN, TEST_SECRETS_KEY, TEST_WEBHOOK_SECRET } from './constants.js';
export type { TestApi } from './api.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

let appPool: Sql | undefined;
let adminPool: Sql | undefined;
let client: Client | undefined;
let nativeConnection: NativeConnection | undefined;

/** Pool connected as the application role, as api and worker are. */
export function appSql(): Sql {
  if (!appPool) {
    appPool = createSql(services.appDbUrl, { applicationName: 'billing-test', max: 10 });
    const pool = appPool;
    cleanups.push(() => pool.end({ timeout: 5 }));
  }
  return appPool;
}

/** Pool connected as the owner (migrations, verifier, test setup that the app role may not do). */
export function adminSql(): Sql {
  if (!adminPool) {
    adminPool = createSql(services.adminDbUrl, { applicationName: 'billing-test-admin', max: 4 });
    const pool = adminPool;
    cleanups.push(() => pool.end({ timeout: 5 }));
  }
  return adminPool;
}

export function testStripe(): Stripe {
  return createStripe({ secretKey: 'sk_test_123', apiUrl: services.stripeApiUrl });
}

export async function temporalClient(): Promise<Client> {
  if (!client) {
    const connection = await Connection.connect({ address: services.temporalAddress });
    client = new Client({ connection, namespace: services.namespace });
    cleanups.push(() => connection.close());
  }
  return client;
}

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* already installed in this process */
  }
}

export interface TestWorker {
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/** A worker with the real activities (app-role Postgres, Stripe via the recorder) on a fresh task queue. */
export async function startWorker(opts: { taskQueue?: string; activities?: object } = {}): Promise<TestWorker> {
  quietRuntime();
  nativeConnection ??= await NativeConnection.connect({ address: services.temporalAddress });
  const conn = nativeConnection;
  if (cleanups.every((c) => c !== closeNative)) cleanups.unshift(closeNative);
  const taskQueue = opts.taskQueue ?? `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: conn,
    namespace: services.namespace,
    taskQueue,
    workflowBundle: { codePath: services.bundlePath },
    activities: opts.activities ?? createActivities({ sql: appSql(), stripe: testStripe() }),
  });
  const running = worker.run();
  const stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
  cleanups.push(stop);
  return { taskQueue, worker, stop };
}

async function closeNative(): Promise<void> {
  await nativeConnection?.close();
}

/** Subscriptions in tests: a period lasts seconds, dunning retries after half a second. */
export const TEST_TIMING: SubscriptionTiming = {
  periodMs: 6_000,
  dunningRetryDelaysMs: [400, 400],
  dunningGraceMs: 400,
  stripeInvoiceWaitWarnMs: 30_000,
};

/** The api in process (Hono's app.request, no socket), wired to the real services. */
export async function testApi(opts: { taskQueue: string; timing?: SubscriptionTiming }): Promise<TestApi> {
  return buildApi({ sql: appSql(), temporal: await temporalClient(), stripeApiUrl: services.stripeApiUrl, taskQueue: opts.taskQueue, timing: opts.timing ?? TEST_TIMING });
}

/** A unique, valid id for apps and teams, so test files never collide in the shared database. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function until<T>(fn: () => Promise<T | undefined | null | false>, opts: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The api on a real socket (for end-to-end tests through the SDK). */
export async function startHttpApi(opts: { taskQueue: string; timing?: SubscriptionTiming }): Promise<{ baseUrl: string; api: TestApi }> {
  const { serve } = await import('@hono/node-server');
  const api = await testApi(opts);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { baseUrl: `http://127.0.0.1:${port}`, api };
}
