/**
 * The chaos run's own services, each restartable in place: Postgres in its own data folder on a
 * fixed port, the Temporal dev server with its state in a SQLite file (a restart keeps every
 * workflow), stripe-mock behind a recorder that lives in this process (so it records every request
 * the product sent, whatever was killed meanwhile), and the workflow bundle built once.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../src/shared/paths.js';
import { prepareDatabase } from '../src/dev/database-setup.js';
import { startEmbeddedPostgres, type EmbeddedPg } from '../src/dev/postgres-server.js';
import { makeFolder } from '../src/dev/startup-error.js';
import { freePort } from '../src/dev/processes.js';
import { startStripeMock } from '../src/dev/stripe-mock.js';
import { startTemporalDevServer, type DevServer } from '../src/dev/temporal-server.js';
import { ensureTool, STRIPE_MOCK, TEMPORAL_CLI } from '../src/dev/tools.js';
import { buildWorkflowBundle } from '../src/workers/bundle.js';
import { startStripeRecorder, type RecordedRequest } from '../test/helpers/stripe-recorder.js';

const PG_PASSWORD = 'postgres';
const APP_PASSWORD = 'billing_app_chaos';

export interface ChaosStack {
  adminDbUrl: string;
  appDbUrl: string;
  temporalAddress: string;
  stripeApiUrl: string;
  stripeRecorderUrl: string;
  bundlePath: string;
  /** Every request that reached (the recorder in front of) stripe-mock. */
  stripeRequests: RecordedRequest[];
  restartPostgres(): Promise<void>;
  restartTemporal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosStack(log: (m: string) => void): Promise<ChaosStack> {
  const dir = join(dataDir(), 'chaos');
  // A fresh world each run: a previous run's workflows would wake up in this one.
  rmSync(dir, { recursive: true, force: true });
  makeFolder(dir);
  const pgPort = await freePort();
  const pgOpts = { dir: join(dir, 'postgres'), port: pgPort, password: PG_PASSWORD, logFile: join(dir, 'postgres.log') };
  let pg: EmbeddedPg = await startEmbeddedPostgres(pgOpts);
  const database = 'billing_chaos';
  const { adminUrl, appUrl } = await prepareDatabase({ serverAdminUrl: pg.adminUrl('postgres'), database, appPassword: APP_PASSWORD });
  log(`postgres on ${pgPort}, data in ${pg.dataDir}`);

  const cli = await ensureTool(TEMPORAL_CLI, { log });
  const temporalOpts = { cli, port: await freePort(), uiPort: null, dbFile: join(dir, 'temporal.sqlite'), namespace: 'default', logFile: join(dir, 'temporal.log') };
  let temporal: DevServer = await startTemporalDevServer(temporalOpts);
  log(`temporal on ${temporal.address}, state in ${temporalOpts.dbFile}`);

  const mock = await startStripeMock({ bin: await ensureTool(STRIPE_MOCK, { log }), port: await freePort(), logFile: join(dir, 'stripe-mock.log') });
  const recorder = await startStripeRecorder(mock.url);
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, await buildWorkflowBundle());

  return {
    adminDbUrl: adminUrl,
    appDbUrl: appUrl,
    temporalAddress: temporal.address,
    stripeApiUrl: recorder.url,
    stripeRecorderUrl: recorder.url,
    bundlePath,
    stripeRequests: recorder.requests,
    async restartPostgres() {
      await pg.stop();
      pg = await startEmbeddedPostgres(pgOpts);
    },
    async restartTemporal() {
      await temporal.process.stop();
      temporal = await startTemporalDevServer(temporalOpts);
    },
    async stop() {
      await new Promise<void>((r) => recorder.server.close(() => r()));
      await mock.process.stop();
      await temporal.process.stop();
      await pg.stop();
    },
  };
}
