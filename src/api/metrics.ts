/** Prometheus metrics of the api process, served on /metrics. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  usageEvents: Counter<'outcome'>;
  stripeWebhookEvents: Counter<'outcome'>;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    usageEvents: new Counter({
      name: 'usage_events_total',
      help: 'Usage events of ingested batches by status (accepted, duplicate, conflict, rejected); batches refused whole are not counted',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    stripeWebhookEvents: new Counter({
      name: 'stripe_webhook_events_total',
      help: 'Signed Stripe webhook deliveries by outcome (routed, ignored, duplicate; parked: unmatched, unprocessable)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

/** A batch's statuses, counted by their totals: one increment per status, whatever the batch's size. */
export function countUsageOutcomes(counter: Counter<'outcome'>, report: { accepted: number; duplicates: number; conflicts: number; rejected: number }): void {
  if (report.accepted > 0) counter.inc({ outcome: 'accepted' }, report.accepted);
  if (report.duplicates > 0) counter.inc({ outcome: 'duplicate' }, report.duplicates);
  if (report.conflicts > 0) counter.inc({ outcome: 'conflict' }, report.conflicts);
  if (report.rejected > 0) counter.inc({ outcome: 'rejected' }, report.rejected);
}
