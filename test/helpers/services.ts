/**
 * The real services a test run needs, started once per run: Postgres (DATABASE_URL's server, or an
 * embedded one), a fresh database migrated to the current schema, the Temporal dev server (in
 * memory, headless), stripe-mock behind a recorder, and the workflow bundle built once.
 * `npm test` (scripts/test.ts) starts them; vitest's global setup starts them when run directly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../../src/shared/paths.js';
import { prepareDatabase, dropDatabase } from '../../src/dev/database-setup.js';
import { startEmbeddedPostgres } from '../../src/dev/postgres-server.js';
import { makeFolder } from '../../src/dev/startup-error.js';
import { freePort } from '../../src/dev/processes.js';
import { startStripeMock } from '../../src/dev/stripe-mock.js';
import { startTemporalDevServer } from '../../src/dev/temporal-server.js';
import { ensureTool, STRIPE_MOCK, TEMPORAL_CLI } from '../../src/dev/tools.js';
import { buildWorkflowBundle } from '../../src/workers/bundle.js';
import { startStripeRecorder } from './stripe-recorder.js';

/** Everything a test process needs to reach the services; passed as one JSON env var. */
export interface TestServices {
  adminDbUrl: string;
  appDbUrl: string;
  /** Server-level admin URL (to create extra databases, e.g. for migration tests). */
  serverAdminUrl: string;
  database: string;
  temporalAddress: string;
  namespace: string;
  stripeApiUrl: string;
  stripeRecorderUrl: string;
  bundlePath: string;
  temporalCli: string;
}

export const SERVICES_ENV = 'BILLING_TEST_SERVICES';
export const TEST_APP_DB_PASSWORD = 'billing_app_test';

export async function startTestServices(
  log: (msg: string) => void = () => {},
  /** Sub-folder of the data folder: `test` for the suite, `bench` for benchmarks. */
  label = 'test',
): Promise<{ services: TestServices; stop: () => Promise<void> }> {
  const dir = join(dataDir(), label);
  makeFolder(dir);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    // Postgres: the given server, or an embedded one kept between runs in .data/test/postgres (as root,
    // possibly a link to where the postgres OS user can reach it: src/dev/postgres-data-dir.ts).
    let serverAdminUrl = process.env.DATABASE_ADMIN_URL ?? process.env.DATABASE_URL;
    if (!serverAdminUrl) {
      const pg = await startEmbeddedPostgres({
        dir: join(dir, 'postgres'), port: await freePort(), password: 'postgres', logFile: join(dir, 'postgres.log'),
      });
      stops.push(() => pg.stop());
      serverAdminUrl = pg.adminUrl('postgres');
      log(`postgres: embedded on ${pg.port}, data in ${pg.dataDir}`);
    } else log(`postgres: ${new URL(serverAdminUrl).host} (DATABASE_URL)`);
    const database = `billing_${label}_${Date.now()}_${process.pid}`;
    const { adminUrl, appUrl } = await prepareDatabase({ serverAdminUrl, database, appPassword: TEST_APP_DB_PASSWORD });
    if (!process.env.BILLING_TEST_KEEP_DB) stops.push(() => dropDatabase(serverAdminUrl!, database));

    // Temporal dev server, fresh and in memory for each run.
    const temporalCli = await ensureTool(TEMPORAL_CLI, { log });
    const temporal = await startTemporalDevServer({
      cli: temporalCli,
      port: await freePort(),
      uiPort: null,
      namespace: 'default',
      logFile: join(dir, 'temporal.log'),
    });
    stops.push(() => temporal.process.stop());

    // stripe-mock, recorded.
    const stripeBin = await ensureTool(STRIPE_MOCK, { log });
    const mock = await startStripeMock({ bin: stripeBin, port: await freePort(), logFile: join(dir, 'stripe-mock.log') });
    stops.push(() => mock.process.stop());
    const recorder = await startStripeRecorder(mock.url);
    stops.push(() => new Promise<void>((r) => recorder.server.close(() => r())));

    const bundlePath = join(dir, `workflow-bundle-${process.pid}.js`);
    writeFileSync(bundlePath, await buildWorkflowBundle());

    return {
      services: {
        adminDbUrl: adminUrl,
        appDbUrl: appUrl,
        serverAdminUrl,
        database,
        temporalAddress: temporal.address,
        namespace: 'default',
        stripeApiUrl: recorder.url,
        stripeRecorderUrl: recorder.url,
        bundlePath,
        temporalCli,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
