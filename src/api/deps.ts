/** What request handlers get from the process: built once in server.ts, injected through context. */
import type { Client } from '@temporalio/client';
import type { Sql } from '../shared/db.js';
import type { Logger } from '../shared/logger.js';
import type { Stripe } from '../shared/stripe.js';
import type { AppDirectory } from '../platform/app-directory.js';
import type { Scope } from '../shared/scopes.js';
import type { ApiMetrics } from './metrics.js';
import type { SubscriptionTiming } from '../workflows/subscription-messages.js';

export interface ApiDeps {
  sql: Sql;
  temporal: Client;
  stripe: Stripe;
  log: Logger;
  directory: AppDirectory;
  secretsKey: Buffer;
  adminToken: string;
  /** Scrape-only credential of /metrics (METRICS_TOKEN); the admin token is accepted too. */
  metricsToken?: string | undefined;
  webhookSecret: string;
  taskQueue: string;
  publicUrl: string;
  /** Durations of subscriptions started through this api (periods, dunning). */
  subscriptionTiming: SubscriptionTiming;
}

/** The caller of an app route, after its token was verified. */
export interface AppPrincipal {
  appId: string;
  /** Null for app-wide tokens (usage ingestion across teams); team routes require a team. */
  teamId: string | null;
  scopes: ReadonlySet<Scope | string>;
}

export interface ApiEnv {
  Variables: {
    requestId: string;
    deps: ApiDeps;
    log: Logger;
    principal: AppPrincipal;
    metrics: ApiMetrics;
  };
}
