/**
 * Where a CLI command finds the running service: the environment (deployments, CI), and for whatever
 * it does not name, what the last `npm start` recorded in the data folder (its dev state: ports,
 * database URLs, the generated secrets). So `npm run cli -- …` works in a second terminal beside
 * `npm start` with nothing to export, and a deployment's variables always win.
 */
import { z } from 'zod';
import { readDevState } from '../dev/dev-state.js';
import { dataDir } from '../shared/paths.js';
import { loadConfig } from '../shared/config.js';

const optionalUrl = (protocol: RegExp) => z.url({ protocol }).optional();

const schema = z.object({
  DATABASE_URL: optionalUrl(/^postgres(ql)?$/),
  DATABASE_ADMIN_URL: optionalUrl(/^postgres(ql)?$/),
  PUBLIC_URL: optionalUrl(/^https?$/),
  API_HOST: z.string().min(1).optional(),
  API_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SECRETS_KEY: z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes encoded as base64').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_\w+$/, 'must be a Stripe webhook signing secret (whsec_…)').optional(),
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_\w+$/).optional(),
  STRIPE_API_URL: optionalUrl(/^https?$/),
  ADMIN_TOKEN: z.string().min(24).optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
});

export interface CliEnvironment {
  /** The application role, as api and worker connect. */
  databaseUrl: string | null;
  /** The owner (migrations, the ledger verifier). */
  adminDatabaseUrl: string | null;
  apiUrl: string;
  secretsKey: Buffer | null;
  webhookSecret: string | null;
  /** stripe-mock's URL; null means Stripe itself. */
  stripeApiUrl: string | null;
  temporalUiUrl: string | null;
  /** Where Temporal answers (the demo looks up the close's run there for its Web UI link). */
  temporalAddress: string | null;
  temporalNamespace: string;
  /** The demo app's secret, as npm start created it: the demo reports usage as that app. */
  demoAppSecret: string | null;
  /** The api's operator credential, for commands that go through the api (subscriptions, test clocks, demo). */
  adminToken: string | null;
  /** What `need` tells the operator to do when something is missing. */
  hint: string;
}

export class CliConfigError extends Error {}

export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const e = loadConfig(schema, env);
  const dir = dataDir(env);
  const dev = readDevState(dir);
  const at = dev?.endpoints;
  const port = e.API_PORT ?? 3000;
  return {
    databaseUrl: e.DATABASE_URL ?? at?.databaseUrl ?? null,
    adminDatabaseUrl: e.DATABASE_ADMIN_URL ?? e.DATABASE_URL ?? at?.adminDatabaseUrl ?? null,
    apiUrl: e.PUBLIC_URL ?? (e.API_HOST || e.API_PORT ? `http://${e.API_HOST ?? '127.0.0.1'}:${port}` : (at?.apiUrl ?? `http://127.0.0.1:${port}`)),
    secretsKey: e.SECRETS_KEY ? Buffer.from(e.SECRETS_KEY, 'base64') : dev ? Buffer.from(dev.secretsKey, 'base64') : null,
    webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? dev?.webhookSecret ?? null,
    stripeApiUrl: e.STRIPE_SECRET_KEY ? (e.STRIPE_API_URL ?? null) : (e.STRIPE_API_URL ?? at?.stripeApiUrl ?? null),
    temporalUiUrl: at?.temporalUiUrl ?? null,
    temporalAddress: e.TEMPORAL_ADDRESS ?? at?.temporalAddress ?? null,
    temporalNamespace: e.TEMPORAL_NAMESPACE ?? at?.temporalNamespace ?? 'default',
    demoAppSecret: dev?.demoAppSecret ?? null,
    adminToken: e.ADMIN_TOKEN ?? dev?.adminToken ?? null,
    hint: at ? `from the environment, else from the npm start state in ${dir}` : `set it in the environment (see README), or run npm start (its state goes to ${dir})`,
  };
}

/** The value, or a CliConfigError naming the variable and where it was looked for. */
export function need<T>(value: T | null, variable: string, env: CliEnvironment): T {
  if (value === null) throw new CliConfigError(`${variable} is not known: ${env.hint}`);
  return value;
}
