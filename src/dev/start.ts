/**
 * `npm start`: the whole service on embedded defaults. Starts (or reuses, from the environment)
 * Postgres, the Temporal dev server with its Web UI and a Stripe endpoint; migrates; seeds the demo;
 * runs the worker and the api; puts the demo team on a plan; prints where everything is. Ctrl-C, a SIGTERM or SIGHUP to this
 * process (or to `npm start` alone) stops it all (src/dev/supervisor.ts); the next start resumes the
 * same state from the data folder.
 *
 *   DATABASE_URL     use this Postgres instead of the embedded one (DATABASE_ADMIN_URL for migrations)
 *   TEMPORAL_ADDRESS use this Temporal instead of the embedded dev server
 *   STRIPE_SECRET_KEY use Stripe test mode instead of stripe-mock
 */
import { join } from 'node:path';
import { createSql } from '../shared/db.js';
import { dataDir, PROJECT_ROOT } from '../shared/paths.js';
import { migrate } from '../db/migrate.js';
import { loadDevState, saveDevState, type DevState } from './dev-state.js';
import { prepareDatabase } from './database-setup.js';
import { startEmbeddedPostgres, type EmbeddedPg } from './postgres-server.js';
import { isPortFree, startProcess, type ManagedProcess } from './processes.js';
import { superviseChildren, type Supervisor } from './supervisor.js';
import { startStripeMock } from './stripe-mock.js';
import { startTemporalDevServer } from './temporal-server.js';
import { ensureSearchAttributes } from '../shared/temporal.js';
import { ensureTool, STRIPE_MOCK, TEMPORAL_CLI } from './tools.js';
import { DEMO_APP_ID, DEMO_TEAM_ID, seedDemo } from './seed.js';
import { seedDemoTeam, type DemoTeamOutcome } from './demo-team.js';
import { appApi } from './app-api.js';
import { adminApiAt } from '../cli/admin-api.js';
import { isExpectedStartupFailure, makeFolder, StartupError, startupFailureLine } from './startup-error.js';

const env = process.env;
const PORTS = {
  api: Number(env.API_PORT ?? 3000),
  temporal: Number(env.TEMPORAL_PORT ?? 7233),
  temporalUi: Number(env.TEMPORAL_UI_PORT ?? 8233),
  postgres: Number(env.BILLING_PG_PORT ?? 54329),
  stripeMock: Number(env.STRIPE_MOCK_PORT ?? 12111),
};
const TASK_QUEUE = env.TEMPORAL_TASK_QUEUE ?? 'billing';
const NAMESPACE = env.TEMPORAL_NAMESPACE ?? 'default';
const READY_TIMEOUT_MS = 180_000;

const say = (msg: string) => process.stdout.write(`[start] ${msg}\n`);

async function requirePort(port: number, what: string, envVar: string): Promise<void> {
  if (!(await isPortFree(port))) throw new StartupError(`Port ${port} (${what}) is in use; stop what uses it or set ${envVar}`);
}

async function waitReady(url: string, children: ManagedProcess[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const dead = children.find((c) => c.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with ${dead.child.exitCode}; see ${dead.logFile}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready in ${READY_TIMEOUT_MS / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What every step needs: the data folder, its dev state, the supervisor that stops what a step started. */
interface Launch {
  dir: string;
  logs: string;
  state: DevState;
  supervisor: Supervisor;
}

/** DATABASE_URL's Postgres (migrated here), or the embedded one with the database prepared for the roles. */
async function startDatabase(l: Launch): Promise<{ appUrl: string; adminUrl: string }> {
  if (env.DATABASE_URL) {
    const adminUrl = env.DATABASE_ADMIN_URL ?? env.DATABASE_URL;
    const sql = createSql(adminUrl, { applicationName: 'billing-migrate', max: 1 });
    await migrate(sql, { log: say });
    await sql.end();
    say(`Postgres: ${new URL(env.DATABASE_URL).host} (DATABASE_URL)`);
    return { appUrl: env.DATABASE_URL, adminUrl };
  }
  await requirePort(PORTS.postgres, 'embedded Postgres', 'BILLING_PG_PORT');
  const pgDir = join(l.dir, 'postgres');
  // Registered before it is up: a stop requested while Postgres starts waits for it, then stops it.
  const starting = startEmbeddedPostgres({ dir: pgDir, port: PORTS.postgres, password: l.state.postgresPassword, logFile: join(l.logs, 'postgres.log') });
  l.supervisor.onStop(() => starting.then((pg) => pg.stop(), () => undefined));
  const pg: EmbeddedPg = await starting;
  const urls = await prepareDatabase({ serverAdminUrl: pg.adminUrl('postgres'), database: 'billing', appPassword: l.state.appDbPassword, log: say });
  // As root the data may live outside the clone, where the postgres OS user can reach it.
  const where = pg.dataDir === pgDir ? pgDir : `${pg.dataDir} (linked from ${pgDir})`;
  say(`Postgres: embedded, 127.0.0.1:${PORTS.postgres}, data in ${where}`);
  return urls;
}

/** TEMPORAL_ADDRESS's Temporal (search attributes registered), or the dev server with its Web UI. */
async function startTemporal(l: Launch): Promise<{ address: string; uiUrl: string | null }> {
  if (env.TEMPORAL_ADDRESS) {
    await ensureSearchAttributes(env.TEMPORAL_ADDRESS, NAMESPACE, 60_000);
    say(`Temporal: ${env.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS)`);
    return { address: env.TEMPORAL_ADDRESS, uiUrl: null };
  }
  await requirePort(PORTS.temporal, 'Temporal frontend', 'TEMPORAL_PORT');
  await requirePort(PORTS.temporalUi, 'Temporal Web UI', 'TEMPORAL_UI_PORT');
  const cli = await ensureTool(TEMPORAL_CLI, { log: say });
  const dbFile = join(l.dir, 'temporal.sqlite');
  const server = await startTemporalDevServer({ cli, port: PORTS.temporal, uiPort: PORTS.temporalUi, dbFile, namespace: NAMESPACE, logFile: join(l.logs, 'temporal.log') });
  say(`Temporal: dev server ${server.address}, state in ${dbFile}`);
  return { address: server.address, uiUrl: server.uiUrl };
}

/** STRIPE_SECRET_KEY's Stripe account, or stripe-mock (url set only then). */
async function startStripe(l: Launch): Promise<{ key: string; url: string | undefined }> {
  if (env.STRIPE_SECRET_KEY) return { key: env.STRIPE_SECRET_KEY, url: env.STRIPE_API_URL };
  await requirePort(PORTS.stripeMock, 'stripe-mock', 'STRIPE_MOCK_PORT');
  const bin = await ensureTool(STRIPE_MOCK, { log: say });
  const mock = await startStripeMock({ bin, port: PORTS.stripeMock, logFile: join(l.logs, 'stripe-mock.log') });
  say(`Stripe: stripe-mock at ${mock.url} (set STRIPE_SECRET_KEY to use your Stripe test mode)`);
  return { key: 'sk_test_stripemock', url: mock.url };
}

/** The demo catalog and app, straight into Postgres (they need no workflow); the app's secret is kept. */
async function seedCatalogAndApp(l: Launch, adminUrl: string, secretsKey: string): Promise<string[]> {
  const sql = createSql(adminUrl, { applicationName: 'billing-seed', max: 2 });
  const seeded = await seedDemo(sql, Buffer.from(secretsKey, 'base64'));
  await sql.end();
  if (seeded.appSecret) {
    l.state.demoAppSecret = seeded.appSecret;
    saveDevState(l.dir, l.state);
  }
  return seeded.plans;
}

/** Worker and api as child processes; answers once the api is ready. */
async function startApiAndWorker(l: Launch, childEnv: NodeJS.ProcessEnv): Promise<string> {
  await requirePort(PORTS.api, 'api', 'API_PORT');
  const tsx = ['--import', 'tsx'];
  const worker = startProcess('worker', process.execPath, [...tsx, 'src/workers/billing.ts'], { cwd: PROJECT_ROOT, env: childEnv, logFile: join(l.logs, 'worker.log') });
  const api = startProcess('api', process.execPath, [...tsx, 'src/api/server.ts'], { cwd: PROJECT_ROOT, env: childEnv, logFile: join(l.logs, 'api.log') });
  const apiUrl = `http://127.0.0.1:${PORTS.api}`;
  await waitReady(`${apiUrl}/health/ready`, [worker, api]);
  for (const child of [worker, api]) {
    void child.exited.then((code) => {
      if (!l.supervisor.stopping) {
        say(`${child.name} exited with ${code}; see ${child.logFile}`);
        void l.supervisor.stopAll(1);
      }
    });
  }
  return apiUrl;
}

/** The demo team through the running api; a failure here leaves the service up and says why. */
async function seedDemoTeamStep(l: Launch, apiUrl: string, adminToken: string, temporalUiUrl: string | null): Promise<string> {
  const app = l.state.demoAppSecret ? appApi({ baseUrl: apiUrl, appId: DEMO_APP_ID, secret: l.state.demoAppSecret }) : null;
  let outcome: DemoTeamOutcome;
  try {
    outcome = await seedDemoTeam(adminApiAt({ apiUrl, adminToken, temporalUiUrl }), app);
  } catch (err) {
    say(`demo team: ${(err as Error).message}`);
    return `${DEMO_TEAM_ID}   (not ready: ${(err as Error).message})`;
  }
  if (!outcome.ready) return `${DEMO_TEAM_ID}   (${outcome.note})`;
  const s = outcome.subscription;
  return `${DEMO_TEAM_ID}   on ${s.planVersionId}, test clock ${outcome.testClockId} at period ${s.currentPeriodStart} → ${s.currentPeriodEnd}`;
}

function banner(o: { startedMs: number; apiUrl: string; temporalUi: string | null; adminToken: string; appSecret: string | undefined; team: string; plans: string[]; logs: string }): string {
  return [
    '',
    `Billing ledger is up (${((Date.now() - o.startedMs) / 1000).toFixed(1)}s).`,
    `  API          ${o.apiUrl}`,
    `  API docs     ${o.apiUrl}/docs   (OpenAPI: ${o.apiUrl}/openapi.json)`,
    `  Temporal UI  ${o.temporalUi ?? '(external Temporal)'}`,
    `  Health       ${o.apiUrl}/health/ready   Metrics: ${o.apiUrl}/metrics (Bearer: the admin token or METRICS_TOKEN)`,
    `  Admin token  ${o.adminToken}`,
    `  Demo app     ${DEMO_APP_ID}   secret: ${o.appSecret ?? '(created earlier elsewhere)'}`,
    `  Demo team    ${o.team}`,
    `  Plans        ${o.plans.join(', ')}`,
    `  Logs         ${o.logs}`,
    `Try: npm run cli -- demo   (usage, then the demo team's clock across its period end, then the invoice)`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const startedMs = Date.now();
  const dir = dataDir();
  const supervisor = superviseChildren({ say });
  try {
    makeFolder(dir);
    const l: Launch = { dir, logs: join(dir, 'logs'), state: loadDevState(dir), supervisor };
    const { appUrl, adminUrl } = await startDatabase(l);
    const temporal = await startTemporal(l);
    const stripe = await startStripe(l);
    const secretsKey = env.SECRETS_KEY ?? l.state.secretsKey;
    const plans = await seedCatalogAndApp(l, adminUrl, secretsKey);
    const adminToken = env.ADMIN_TOKEN ?? l.state.adminToken;
    const apiUrl = await startApiAndWorker(l, {
      ...env,
      NODE_ENV: env.NODE_ENV ?? 'development',
      DATABASE_URL: appUrl,
      DATABASE_ADMIN_URL: adminUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      STRIPE_SECRET_KEY: stripe.key,
      STRIPE_API_URL: stripe.url ?? '',
      SECRETS_KEY: secretsKey,
      ADMIN_TOKEN: adminToken,
      STRIPE_WEBHOOK_SECRET: env.STRIPE_WEBHOOK_SECRET ?? l.state.webhookSecret,
      API_PORT: String(PORTS.api),
    });
    l.state.endpoints = {
      apiUrl,
      databaseUrl: appUrl,
      adminDatabaseUrl: adminUrl,
      temporalAddress: temporal.address,
      temporalNamespace: NAMESPACE,
      temporalUiUrl: temporal.uiUrl,
      stripeApiUrl: env.STRIPE_SECRET_KEY ? null : (stripe.url ?? null),
    };
    saveDevState(dir, l.state);
    const team = await seedDemoTeamStep(l, apiUrl, adminToken, temporal.uiUrl);
    process.stdout.write(banner({ startedMs, apiUrl, temporalUi: temporal.uiUrl, adminToken, appSecret: l.state.demoAppSecret, team, plans, logs: l.logs }));
  } catch (err) {
    if (!isExpectedStartupFailure(err)) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    await supervisor.stopAll(1, `failed: ${startupFailureLine(err)}`);
  }
}

void main();
