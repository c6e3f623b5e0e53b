/** The worker process's /metrics (WORKER_METRICS_PORT): memory and the Temporal worker's own state. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/processes.js';
import { services, until } from '../helpers/context.js';
import { spawnWorker, stopWorker } from '../helpers/worker-process.js';

describe('worker metrics', () => {
  it('serves the process memory and the cached workflows on /metrics, and nothing on other paths', async () => {
    const port = await freePort();
    const worker = spawnWorker(services, `metrics-${randomBytes(4).toString('hex')}`, { metricsPort: port });
    try {
      const body = await until(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
          return res?.status === 200 ? res.text() : null;
        },
        { what: 'worker /metrics', timeoutMs: 60_000 },
      );
      const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body)?.[1]);
      expect(value('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
      expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(1_000_000);
      expect(value('temporal_worker_cached_workflows')).toBe(0);
      expect(value('temporal_worker_activities_in_flight')).toBe(0);
      expect((await fetch(`http://127.0.0.1:${port}/anything`)).status).toBe(404);
    } finally {
      await stopWorker(worker);
    }
  });
});
