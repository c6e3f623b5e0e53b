/** The real worker entry (src/workers/billing.ts) as a child process, so tests can SIGKILL it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/shared/paths.js';
import { TEST_SECRETS_KEY } from './constants.js';
import type { TestServices } from './services.js';

export function spawnWorker(services: TestServices, taskQueue: string, opts: { stripeApiUrl?: string; maxConcurrentActivities?: number; metricsPort?: number } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/workers/billing.ts')], {
    cwd: PROJECT_ROOT,
    stdio: 'ignore',
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      DATABASE_URL: services.appDbUrl,
      TEMPORAL_ADDRESS: services.temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      STRIPE_SECRET_KEY: 'sk_test_123',
      STRIPE_API_URL: opts.stripeApiUrl ?? services.stripeApiUrl,
      SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
      WORKFLOW_BUNDLE_PATH: services.bundlePath,
      ...(opts.maxConcurrentActivities ? { WORKER_MAX_CONCURRENT_ACTIVITIES: String(opts.maxConcurrentActivities) } : {}),
      ...(opts.metricsPort ? { WORKER_METRICS_PORT: String(opts.metricsPort) } : {}),
    },
  });
}

export async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
