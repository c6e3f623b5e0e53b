/**
 * Process configuration, parsed once from the environment and failing fast with every bad variable
 * named. Each process asks only for what it uses (api, worker, cli), so a worker does not need the
 * admin token and the CLI does not need Stripe.
 *
 * The README's configuration table documents every variable here; keep them in step.
 */
import { z } from 'zod';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const base = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: logLevel.default('info'),
};

const database = {
  /** Connection of the application role (`billing_app`); api and worker use it. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  /** Owner connection for migrations and the ledger verifier; defaults to DATABASE_URL. */
  DATABASE_ADMIN_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
};

const temporal = {
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('billing'),
};

const stripe = {
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_… or sk_live_…)'),
  /** Base URL of the Stripe API; only set to point at stripe-mock in development and tests. */
  STRIPE_API_URL: z.url({ protocol: /^https?$/ }).optional(),
};

const secrets = {
  /** 32 random bytes, base64: encrypts app HMAC secrets at rest (AES-256-GCM). */
  SECRETS_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes encoded as base64'),
};

const apiOnly = {
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Bearer credential of operator/admin routes; separate from app tokens. */
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters'),
  /** Bearer credential of /metrics for a Prometheus scraper; opens nothing else. Unset: only ADMIN_TOKEN reads /metrics. */
  METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_\w+$/, 'must be a Stripe webhook signing secret (whsec_…)'),
  /** Where the API is reachable from outside; used in printed URLs and the OpenAPI document. */
  PUBLIC_URL: z.url().optional(),
  /** Fixed period length for new subscriptions (demos, tests); unset follows Stripe's periods. */
  BILLING_PERIOD_SECONDS: z.coerce.number().int().min(1).optional(),
  /** Dunning: waits before each payment retry after a failure, comma-separated seconds. */
  DUNNING_RETRY_DELAYS_SECONDS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be comma-separated seconds, e.g. 259200,432000')
    .default('259200,432000,604800')
    // Parsed here, once: everyone else gets the list of seconds.
    .transform((v) => v.split(',').map(Number)),
  /** Dunning: grace after the last retry before entitlements are restricted, in seconds. */
  DUNNING_GRACE_SECONDS: z.coerce.number().int().min(0).default(604800),
};

const workerOnly = {
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(1000).default(50),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(1).max(1000).default(40),
  /** Port of the worker's Prometheus /metrics (src/workers/metrics.ts); unset: no endpoint. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address the worker's /metrics listens on; loopback unless a scraper elsewhere needs it. */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
};

export const apiConfigSchema = z.object({ ...base, ...database, ...temporal, ...stripe, ...secrets, ...apiOnly });
export const workerConfigSchema = z.object({ ...base, ...database, ...temporal, ...stripe, ...secrets, ...workerOnly });
export const cliConfigSchema = z.object({ ...base, ...database });

export type ApiConfig = z.infer<typeof apiConfigSchema>;
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
export type CliConfig = z.infer<typeof cliConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `env` with `schema`; throws a ConfigError naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // Empty strings count as unset, as a shell `FOO=` means "no value".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
  );
}

/** For process entries: prints the problems and exits instead of throwing a stack trace at the operator. */
export function loadConfigOrExit<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
