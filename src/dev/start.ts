/**
 * `npm start`: the whole service on embedded defaults. Starts (or reuses, from the environment)
 * Postgres, the Temporal dev server with its Web UI and a Stripe endpoint; migrates; seeds the demo;
 * runs the worker and the api; prints where everything is. Ctrl-C, a SIGTERM or SIGHUP to this
 * process (or to `npm start` alone) stops it all (src/dev/supervisor.ts); the next start resumes the
 * same state from the data folder.
 *
 *   DATABASE_URL     use this Postgres instead of the embedded one (DATABASE_ADMIN_URL for migrations)
 *   TEMPORAL_ADDRESS use this Temporal instead of the embedded dev server
 *   STRIPE_SECRET_KEY use Stripe test mode instead of stripe-mock
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createSql } from '../shared/db.js';
import { dataDir, PROJECT_ROOT } from '../shared/paths.js';
import { migrate } from '../db/migrate.js';
import { startProvisionTeam } from '../orchestration/provision-team.js';
import { loadDevState, saveDevState } from './dev-state.js';
import { prepareDatabase } from './database-setup.js';
import { startEmbeddedPostgres, type EmbeddedPg } from './postgres-server.js';
import { isPortFree, startProcess, type ManagedProcess } from './processes.js';
import { superviseChildren } from './supervisor.js';
import { startStripeMock } from './stripe-mock.js';
import { startTemporalDevServer } from './temporal-server.js';
import { ensureSearchAttributes } from '../shared/temporal.js';
import { ensureTool, STRIPE_MOCK, TEMPORAL_CLI } from './tools.js';
import { DEMO_APP_ID, DEMO_TEAM_ID, seedDemo } from './seed.js';
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

async function main(): Promise<void> {
  const started = Date.now();
  const dir = dataDir();
  const logs = join(dir, 'logs');
  const supervisor = superviseChildren({ say });
  const stopAll = supervisor.stopAll;

  try {
    makeFolder(dir);
    const state = loadDevState(dir);

    // Postgres
    let appUrl: string;
    let adminUrl: string;
    if (env.DATABASE_URL) {
      appUrl = env.DATABASE_URL;
      adminUrl = env.DATABASE_ADMIN_URL ?? env.DATABASE_URL;
      const sql = createSql(adminUrl, { applicationName: 'billing-migrate', max: 1 });
      await migrate(sql, { log: say });
      await sql.end();
      say(`Postgres: ${new URL(appUrl).host} (DATABASE_URL)`);
    } else {
      await requirePort(PORTS.postgres, 'embedded Postgres', 'BILLING_PG_PORT');
      const pgDir = join(dir, 'postgres');
      // Registered before it is up: a stop requested while Postgres starts waits for it, then stops it.
      const starting = startEmbeddedPostgres({
        dir: pgDir, port: PORTS.postgres, password: state.postgresPassword, logFile: join(logs, 'postgres.log'),
      });
      supervisor.onStop(() => starting.then((pg) => pg.stop(), () => undefined));
      const pg: EmbeddedPg = await starting;
      ({ appUrl, adminUrl } = await prepareDatabase({
        serverAdminUrl: pg.adminUrl('postgres'),
        database: 'billing',
        appPassword: state.appDbPassword,
        log: say,
      }));
      // As root the data may live outside the clone, where the postgres OS user can reach it.
      const where = pg.dataDir === pgDir ? pgDir : `${pg.dataDir} (linked from ${pgDir})`;
      say(`Postgres: embedded, 127.0.0.1:${PORTS.postgres}, data in ${where}`);
    }

    // Temporal
    let temporalAddress: string;
    let temporalUi: string | null = null;
    if (env.TEMPORAL_ADDRESS) {
      temporalAddress = env.TEMPORAL_ADDRESS;
      await ensureSearchAttributes(temporalAddress, NAMESPACE, 60_000);
      say(`Temporal: ${temporalAddress} (TEMPORAL_ADDRESS)`);
    } else {
      await requirePort(PORTS.temporal, 'Temporal frontend', 'TEMPORAL_PORT');
      await requirePort(PORTS.temporalUi, 'Temporal Web UI', 'TEMPORAL_UI_PORT');
      const cli = await ensureTool(TEMPORAL_CLI, { log: say });
      const server = await startTemporalDevServer({
        cli,
        port: PORTS.temporal,
        uiPort: PORTS.temporalUi,
        dbFile: join(dir, 'temporal.sqlite'),
        namespace: NAMESPACE,
        logFile: join(logs, 'temporal.log'),
      });
      temporalAddress = server.address;
      temporalUi = server.uiUrl;
      say(`Temporal: dev server ${temporalAddress}, state in ${join(dir, 'temporal.sqlite')}`);
    }

    // Stripe
    let stripeKey = env.STRIPE_SECRET_KEY;
    let stripeUrl = env.STRIPE_API_URL;
    if (!stripeKey) {
      await requirePort(PORTS.stripeMock, 'stripe-mock', 'STRIPE_MOCK_PORT');
      const bin = await ensureTool(STRIPE_MOCK, { log: say });
      const mock = await startStripeMock({ bin, port: PORTS.stripeMock, logFile: join(logs, 'stripe-mock.log') });
      stripeKey = 'sk_test_stripemock';
      stripeUrl = mock.url;
      say(`Stripe: stripe-mock at ${mock.url} (set STRIPE_SECRET_KEY to use your Stripe test mode)`);
    }

    // Demo data
    const secretsKey = env.SECRETS_KEY ?? state.secretsKey;
    const seedSql = createSql(adminUrl, { applicationName: 'billing-seed', max: 2 });
    const seeded = await seedDemo(seedSql, Buffer.from(secretsKey, 'base64'));
    await seedSql.end();
    if (seeded.appSecret) {
      state.demoAppSecret = seeded.appSecret;
      saveDevState(dir, state);
    }

    // Worker and api
    await requirePort(PORTS.api, 'api', 'API_PORT');
    const childEnv: NodeJS.ProcessEnv = {
      ...env,
      NODE_ENV: env.NODE_ENV ?? 'development',
      DATABASE_URL: appUrl,
      DATABASE_ADMIN_URL: adminUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      STRIPE_SECRET_KEY: stripeKey,
      STRIPE_API_URL: stripeUrl ?? '',
      SECRETS_KEY: secretsKey,
      ADMIN_TOKEN: env.ADMIN_TOKEN ?? state.adminToken,
      STRIPE_WEBHOOK_SECRET: env.STRIPE_WEBHOOK_SECRET ?? state.webhookSecret,
      API_PORT: String(PORTS.api),
    };
    const tsx = ['--import', 'tsx'];
    const worker = startProcess('worker', process.execPath, [...tsx, 'src/workers/billing.ts'], {
      cwd: PROJECT_ROOT, env: childEnv, logFile: join(logs, 'worker.log'),
    });
    const api = startProcess('api', process.execPath, [...tsx, 'src/api/server.ts'], {
      cwd: PROJECT_ROOT, env: childEnv, logFile: join(logs, 'api.log'),
    });
    const apiUrl = `http://127.0.0.1:${PORTS.api}`;
    await waitReady(`${apiUrl}/health/ready`, [worker, api]);

    state.endpoints = {
      apiUrl,
      databaseUrl: appUrl,
      adminDatabaseUrl: adminUrl,
      temporalAddress,
      temporalNamespace: NAMESPACE,
      temporalUiUrl: temporalUi,
      stripeApiUrl: env.STRIPE_SECRET_KEY ? null : (stripeUrl ?? null),
    };
    saveDevState(dir, state);

    const client = new Client({ connection: await Connection.connect({ address: temporalAddress }), namespace: NAMESPACE });
    await startProvisionTeam(client, TASK_QUEUE, DEMO_TEAM_ID);
    await client.connection.close();

    for (const child of [worker, api]) {
      void child.exited.then((code) => {
        if (!supervisor.stopping) {
          say(`${child.name} exited with ${code}; see ${child.logFile}`);
          void stopAll(1);
        }
      });
    }

    const lines = [
      '',
      `Billing ledger is up (${((Date.now() - started) / 1000).toFixed(1)}s).`,
      `  API          ${apiUrl}`,
      `  API docs     ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)`,
      `  Temporal UI  ${temporalUi ?? '(external Temporal)'}`,
      `  Health       ${apiUrl}/health/ready   Metrics: ${apiUrl}/metrics (Bearer: the admin token or METRICS_TOKEN)`,
      `  Admin token  ${childEnv.ADMIN_TOKEN}`,
      `  Demo app     ${DEMO_APP_ID}   secret: ${state.demoAppSecret ?? '(created earlier elsewhere)'}`,
      `  Demo team    ${DEMO_TEAM_ID}   plans: ${seeded.plans.join(', ')}`,
      `  Logs         ${logs}`,
      'Press Ctrl-C to stop.',
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } catch (err) {
    if (!isExpectedStartupFailure(err)) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    await stopAll(1, `failed: ${startupFailureLine(err)}`);
  }
}

void main();
