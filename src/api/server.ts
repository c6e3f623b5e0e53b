/** The api process: config → dependencies → HTTP server → graceful shutdown. */
import { serve } from '@hono/node-server';
import { apiConfigSchema, loadConfigOrExit } from '../shared/config.js';
import { createSql } from '../shared/db.js';
import { createLogger } from '../shared/logger.js';
import { createStripe } from '../shared/stripe.js';
import { createTemporalClient } from '../shared/temporal.js';
import { AppDirectory } from '../platform/app-directory.js';
import { createApp } from './app.js';
import { createApiMetrics } from './metrics.js';
import { subscriptionTimingFromConfig } from '../orchestration/subscriptions.js';
import { startCogsFolder } from '../usage/cogs-fold.js';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfigOrExit(apiConfigSchema);
  const log = createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const sql = createSql(config.DATABASE_URL, { applicationName: 'billing-api', max: config.DATABASE_POOL_MAX });
  const temporal = createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  const secretsKey = Buffer.from(config.SECRETS_KEY, 'base64');
  const publicUrl = config.PUBLIC_URL ?? `http://${config.API_HOST}:${config.API_PORT}`;
  const directory = new AppDirectory(sql, secretsKey);
  const unlisten = await directory.listenForSecretChanges(sql);
  const app = createApp(
    {
      sql,
      temporal,
      stripe: createStripe({ secretKey: config.STRIPE_SECRET_KEY, apiUrl: config.STRIPE_API_URL }),
      log,
      directory,
      secretsKey,
      adminToken: config.ADMIN_TOKEN,
      metricsToken: config.METRICS_TOKEN,
      webhookSecret: config.STRIPE_WEBHOOK_SECRET,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      publicUrl,
      subscriptionTiming: subscriptionTimingFromConfig(config),
    },
    createApiMetrics(),
  );
  // Ingest queues each batch's COGS; this process posts them to the ledger (src/usage/cogs-fold.ts).
  const cogsFolder = startCogsFolder(sql, (err) => log.warn({ err }, 'COGS fold failed; retrying on the next tick'));
  const server = serve({ fetch: app.fetch, hostname: config.API_HOST, port: config.API_PORT }, (info) => {
    log.info({ url: publicUrl, port: info.port }, 'api listening');
  });

  const shutdown = async (signal: string) => {
    log.info({ signal }, 'api shutting down');
    const force = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS);
    server.close();
    await unlisten().catch(() => {});
    await cogsFolder.stop().catch(() => {});
    await Promise.allSettled([sql.end({ timeout: 5 }), temporal.connection.close()]);
    clearTimeout(force);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`api failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
