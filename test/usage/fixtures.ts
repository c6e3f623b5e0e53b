/** Shared setup of usage tests: an app, connected teams, tokens, event builders and quick reads. */
import { randomUUID } from 'node:crypto';
import { adminSql, testApi, uniqueId, type TestApi } from '../helpers/context.js';
import { appToken } from '../helpers/tokens.js';
import type { IngestResult } from '../../src/usage/ingest.js';

export interface UsageApp {
  api: TestApi;
  appId: string;
  secret: string;
  teamIds: string[];
  token(opts?: { teamId?: string; scopes?: string[] }): Promise<string>;
  /** POST /v1/usage with an app-wide usage:write token; returns status and body. */
  post(events: unknown[] | { events: unknown }, opts?: { token?: string }): Promise<{ status: number; body: IngestResult & Problem }>;
}

export interface Problem {
  code: string;
  errors?: Array<{ path: string; message: string }>;
  details?: { indexes?: number[]; teamIds?: string[] };
}

export async function createTeams(api: TestApi, appId: string, count: number, policy: 'adjust' | 'reject' = 'adjust'): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uniqueId('team'));
  for (const id of ids) {
    await api.deps.sql`insert into teams (id, name, kind, currency, late_usage_policy, request_hash) values (${id}, 'Usage team', 'shared', 'USD', ${policy}, '\\x00')`;
    await api.deps.sql`insert into team_apps (team_id, app_id) values (${id}, ${appId})`;
  }
  return ids;
}

export async function usageApp(opts: { teams?: number; policy?: 'adjust' | 'reject'; api?: TestApi } = {}): Promise<UsageApp> {
  const api = opts.api ?? (await testApi({ taskQueue: uniqueId('usage') }));
  const appId = uniqueId('app');
  const created = (await (await api.admin('POST', '/admin/apps', { appId, name: 'Usage app' })).json()) as { secret: string };
  const teamIds = await createTeams(api, appId, opts.teams ?? 1, opts.policy);
  const token: UsageApp['token'] = (o = {}) => appToken({ appId, secret: created.secret, teamId: o.teamId ?? null, scopes: o.scopes ?? ['usage:write', 'usage:read'] });
  const post: UsageApp['post'] = async (events, o = {}) => {
    const res = await api.request('POST', '/v1/usage', { body: Array.isArray(events) ? { events } : events, token: o.token ?? (await token()) });
    return { status: res.status, body: (await res.json()) as IngestResult & Problem };
  };
  return { api, appId, secret: created.secret, teamIds, token, post };
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const key = (prefix = 'evt') => `${prefix}_${randomUUID()}`;

export function llmEvent(teamId: string, o: { key?: string; at?: number; inputTokens?: number; outputTokens?: number; cachedInputTokens?: number; model?: string; provider?: string } = {}) {
  return {
    idempotencyKey: o.key ?? key(),
    eventType: 'llm.tokens.v1',
    timestamp: iso(o.at ?? Date.now()),
    teamId,
    payload: {
      provider: o.provider ?? 'openai',
      model: o.model ?? 'gpt-5',
      inputTokens: o.inputTokens ?? 1000,
      outputTokens: o.outputTokens ?? 100,
      ...(o.cachedInputTokens === undefined ? {} : { cachedInputTokens: o.cachedInputTokens }),
    },
    source: 'usage-test/1.0.0',
  };
}

export function storageEvent(teamId: string, bytes: number, at: number, o: { key?: string; provider?: string } = {}) {
  return { idempotencyKey: o.key ?? key(), eventType: 'storage.bytes.v1', timestamp: iso(at), teamId, payload: { provider: o.provider ?? 'aws-s3', bytes }, source: 'usage-test/1.0.0' };
}

export function bandwidthEvent(teamId: string, bytes: number, o: { key?: string; at?: number; direction?: 'ingress' | 'egress' } = {}) {
  return { idempotencyKey: o.key ?? key(), eventType: 'bandwidth.bytes.v1', timestamp: iso(o.at ?? Date.now()), teamId, payload: { provider: 'cloudflare', direction: o.direction ?? 'egress', bytes }, source: 'usage-test/1.0.0' };
}

export function imageEvent(teamId: string, o: { key?: string; at?: number; size?: string } = {}) {
  return { idempotencyKey: o.key ?? key(), eventType: 'image.generated.v1', timestamp: iso(o.at ?? Date.now()), teamId, payload: { provider: 'openai', model: 'gpt-image-1', size: o.size ?? '1024x1024' }, source: 'usage-test/1.0.0' };
}

export interface CounterRow {
  meter: string;
  dimensions: Record<string, string>;
  quantity: string;
  events: bigint;
  cost: string;
  period_id: bigint;
}

export async function counters(teamId: string, meter?: string): Promise<CounterRow[]> {
  return adminSql()<CounterRow[]>`
    select meter, dimensions, sum(quantity) as quantity, sum(events)::bigint as events, sum(cost) as cost, period_id from usage_counters
    where team_id = ${teamId} ${meter ? adminSql()`and meter = ${meter}` : adminSql()``}
    group by meter, dimensions, period_id
    order by meter, dimensions::text, period_id`;
}

export async function quantity(teamId: string, meter: string): Promise<string | undefined> {
  const rows = await counters(teamId, meter);
  return rows[0]?.quantity;
}
