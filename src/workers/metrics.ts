/**
 * Prometheus metrics of the worker process, served on /metrics when WORKER_METRICS_PORT is set: the
 * process's memory and event loop (prom-client's defaults) and the Temporal worker's own state (cached
 * workflows, tasks in flight), so a soak or an operator can tell a leak from a cache filling up.
 * No credential: it listens on WORKER_METRICS_HOST (loopback by default) and shows no business data.
 */
import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkerStatus } from '@temporalio/worker';

export function createWorkerMetrics(status: () => WorkerStatus | null): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: (s: WorkerStatus) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const s = status();
        if (s) this.set(read(s));
      },
    });
  gauge('temporal_worker_cached_workflows', 'Workflow executions held in the sticky cache (bounded by maxCachedWorkflows)', (s) => s.numCachedWorkflows);
  gauge('temporal_worker_activities_in_flight', 'Activities running now', (s) => s.numInFlightActivities);
  gauge('temporal_worker_workflow_activations_in_flight', 'Workflow activations running now', (s) => s.numInFlightWorkflowActivations);
  return registry;
}

/** Serves GET /metrics of `registry`; anything else is 404. Resolves once listening. */
export async function serveWorkerMetrics(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType, 'x-content-type-options': 'nosniff' }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
