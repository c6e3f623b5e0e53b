/**
 * The demo team's usage: what an app on the demo plan (catalog/plans.yaml, pro) reports in a period:
 * LLM calls on GPT-5 and on another model (per-model prices), a storage gauge (GB-month) and a few
 * images (packages of 100). Reported as the demo app, through the public API, with keys derived from
 * the period, so a run repeated for the same period counts nothing twice.
 */
import { DEMO_TEAM_ID } from './seed.js';
import type { AppApi } from './app-api.js';

interface UsageResult {
  status: 'accepted' | 'duplicate' | 'conflict' | 'rejected';
  reason?: string;
}

/** The events of one round; `round` 0 is the seed of `npm start`, later rounds are `cli demo` runs. */
export function demoUsageEvents(round: number, at: string, keyPrefix: string) {
  const grow = (n: number) => n + round * Math.floor(n / 4); // each round a little busier than the last
  const event = (n: number, eventType: string, payload: Record<string, unknown>) => ({
    idempotencyKey: `${keyPrefix}-${n}`,
    eventType,
    timestamp: at,
    teamId: DEMO_TEAM_ID,
    payload,
    source: 'billing-demo/1.0',
  });
  return [
    event(1, 'llm.tokens.v1', { provider: 'openai', model: 'gpt-5', inputTokens: grow(1_200_000), outputTokens: grow(150_000) }),
    event(2, 'llm.tokens.v1', { provider: 'anthropic', model: 'claude-sonnet-4', inputTokens: grow(1_800_000), outputTokens: grow(420_000) }),
    // A gauge: the bytes stored from now on (it holds into later periods until the next report).
    event(3, 'storage.bytes.v1', { provider: 'aws-s3', bytes: grow(16_000_000_000) }),
    ...Array.from({ length: 3 + round }, (_, i) => event(4 + i, 'image.generated.v1', { provider: 'openai', model: 'gpt-image-1', size: '1024x1024' })),
  ];
}

/** Reports the events as the demo app; answers how many were accepted, duplicates, and the rest by reason. */
export async function reportDemoUsage(app: AppApi, events: ReturnType<typeof demoUsageEvents>): Promise<{ accepted: number; duplicate: number; refused: string[] }> {
  const { results } = await app.call<{ results: UsageResult[] }>('POST', '/v1/usage', { scopes: ['usage:write'], body: { events } });
  return {
    accepted: results.filter((r) => r.status === 'accepted').length,
    duplicate: results.filter((r) => r.status === 'duplicate').length,
    refused: results.flatMap((r) => (r.status === 'accepted' || r.status === 'duplicate' ? [] : [`${r.status}${r.reason ? ` (${r.reason})` : ''}`])),
  };
}

