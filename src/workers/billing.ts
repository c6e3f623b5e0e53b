/**
 * The worker process: runs every workflow and activity of the `billing` task queue. It is the only
 * code that calls Stripe or closes periods. SIGTERM drains in-flight tasks before exiting.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';
import { loadConfigOrExit, workerConfigSchema } from '../shared/config.js';
import { createSql } from '../shared/db.js';
import { createLogger } from '../shared/logger.js';
import { createStripe } from '../shared/stripe.js';
import { createActivities } from '../activities/index.js';
import { bundlerOptions, prebuiltBundle, WORKFLOWS_PATH } from './bundle.js';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics.js';

const TEMPORAL_LOG_LEVEL: Record<string, LogLevel> = {
  trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR',
};

async function main(): Promise<void> {
  const config = loadConfigOrExit(workerConfigSchema);
  const log = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
  // SDK and workflow logs (replay-aware `log` from @temporalio/workflow) go through pino too.
  Runtime.install({
    logger: new DefaultLogger(TEMPORAL_LOG_LEVEL[config.LOG_LEVEL] ?? 'INFO', (entry) => {
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      log[level]({ ...entry.meta, sdk: true }, entry.message);
    }),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });

  const sql = createSql(config.DATABASE_URL, { applicationName: 'billing-worker', max: config.DATABASE_POOL_MAX });
  const stripe = createStripe({ secretKey: config.STRIPE_SECRET_KEY, apiUrl: config.STRIPE_API_URL });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const bundlePath = prebuiltBundle();
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({ sql, stripe }),
    ...(bundlePath
      ? { workflowBundle: { codePath: bundlePath } }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { webpackConfigHook: bundlerOptions } }),
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    shutdownGraceTime: '10 seconds',
  });
  const metrics =
    config.WORKER_METRICS_PORT === undefined
      ? null
      : await serveWorkerMetrics(createWorkerMetrics(() => worker.getStatus()), config.WORKER_METRICS_HOST, config.WORKER_METRICS_PORT);
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: config.TEMPORAL_ADDRESS, bundle: bundlePath ?? 'built at start', metricsPort: config.WORKER_METRICS_PORT ?? null }, 'worker running');
  // Worker.run installs SIGINT/SIGTERM handlers that start a graceful shutdown.
  await worker.run();
  metrics?.close();
  await Promise.allSettled([sql.end({ timeout: 5 }), connection.close()]);
  log.info('worker stopped');
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
