/** The api in process (Hono's app.request, no socket) over given connections; no vitest here, so benchmarks use it too. */
import type { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { createApiMetrics } from '../../src/api/metrics.js';
import { AppDirectory } from '../../src/platform/app-directory.js';
import type { Sql } from '../../src/shared/db.js';
import { createLogger } from '../../src/shared/logger.js';
import { createStripe } from '../../src/shared/stripe.js';
import type { SubscriptionTiming } from '../../src/workflows/subscription-messages.js';
import { TEST_ADMIN_TOKEN, TEST_SECRETS_KEY, TEST_WEBHOOK_SECRET } from './constants.js';

export interface TestApi {
  app: ReturnType<typeof createApp>;
  deps: ApiDeps;
  request(method: string, path: string, opts?: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> }): Promise<Response>;
  admin(method: string, path: string, body?: unknown): Promise<Response>;
}

export function buildApi(opts: { sql: Sql; temporal: Client; stripeApiUrl: string; taskQueue: string; timing: SubscriptionTiming }): TestApi {
  const deps: ApiDeps = {
    sql: opts.sql,
    temporal: opts.temporal,
    stripe: createStripe({ secretKey: 'sk_test_123', apiUrl: opts.stripeApiUrl }),
    log: createLogger({ level: 'silent', name: 'api-test' }),
    directory: new AppDirectory(opts.sql, TEST_SECRETS_KEY),
    secretsKey: TEST_SECRETS_KEY,
    adminToken: TEST_ADMIN_TOKEN,
    webhookSecret: TEST_WEBHOOK_SECRET,
    taskQueue: opts.taskQueue,
    publicUrl: 'http://localhost',
    subscriptionTiming: opts.timing,
  };
  const app = createApp(deps, createApiMetrics());
  const request: TestApi['request'] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    return Promise.resolve(app.request(path, { method, headers, body }));
  };
  return { app, deps, request, admin: (method, path, body) => request(method, path, { body, token: TEST_ADMIN_TOKEN }) };
}
