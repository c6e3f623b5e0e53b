/** POST /v1/usage: counting, statuses, dedup and conflicts within and across batches, team checks. */
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../helpers/constants.js';
import { adminSql, uniqueId } from '../helpers/context.js';
import { createTeams, counters, key, llmEvent, quantity, usageApp, type UsageApp } from './fixtures.js';

let u: UsageApp;
beforeAll(async () => {
  u = await usageApp({ teams: 3 });
});

describe('reporting usage', () => {
  const usageMetric = async (outcome: string): Promise<number> => {
    const text = await (await u.api.request('GET', '/metrics', { token: TEST_ADMIN_TOKEN })).text();
    const line = text.split('\n').find((l) => l.startsWith(`usage_events_total{outcome="${outcome}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('counts every status of a batch in usage_events_total', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const outcomes = ['accepted', 'duplicate', 'conflict', 'rejected'];
    const before = await Promise.all(outcomes.map(usageMetric));
    const first = llmEvent(team!, { inputTokens: 1 });
    await u.post([first, llmEvent(team!, { inputTokens: 2 })]);
    const old = { ...llmEvent(team!, { inputTokens: 3 }), timestamp: new Date(Date.now() - 400 * 24 * 3600_000).toISOString() };
    const { body } = await u.post([first, { ...first, payload: { ...first.payload, inputTokens: 9 } }, llmEvent(team!, { inputTokens: 4 }), old]);
    expect(body).toMatchObject({ accepted: 1, duplicates: 1, conflicts: 1, rejected: 1 });
    const after = await Promise.all(outcomes.map(usageMetric));
    expect(after.map((n, i) => n - before[i]!)).toEqual([3, 1, 1, 1]);
  });

  it('counts an llm event into input and output token counters of its provider and model', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const { status, body } = await u.post([llmEvent(team!, { inputTokens: 1200, outputTokens: 350, cachedInputTokens: 800 })]);
    expect(status).toBe(200);
    expect(body).toMatchObject({ accepted: 1, duplicates: 0, conflicts: 0, rejected: 0 });
    expect(body.results[0]).toMatchObject({ index: 0, status: 'accepted' });
    const rows = await counters(team!);
    expect(rows.map((r) => [r.meter, r.dimensions, r.quantity, r.events])).toEqual([
      ['llm.cached_input_tokens', { provider: 'openai', model: 'gpt-5' }, '800', 1n],
      ['llm.input_tokens', { provider: 'openai', model: 'gpt-5' }, '1200', 1n],
      ['llm.output_tokens', { provider: 'openai', model: 'gpt-5' }, '350', 1n],
    ]);
  });

  it('reports a resent event as duplicate and counts it once', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const event = llmEvent(team!, { inputTokens: 10 });
    const first = await u.post([event]);
    const again = await u.post([event, llmEvent(team!, { inputTokens: 5 })]);
    expect(again.body.results.map((r) => r.status)).toEqual(['duplicate', 'accepted']);
    expect(again.body.results[0]!.eventId).toBe(first.body.results[0]!.eventId);
    expect(await quantity(team!, 'llm.input_tokens')).toBe('15');
  });

  it('treats a resend with payload keys in another order, another source and the same instant written differently as a duplicate', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const k = key();
    const at = new Date(Date.now() - 60_000).toISOString();
    const payload = { provider: 'openai', model: 'm', inputTokens: 1, outputTokens: 2 };
    await u.post([{ idempotencyKey: k, eventType: 'llm.tokens.v1', timestamp: at, teamId: team, payload, source: 'a/1' }]);
    const reordered = { outputTokens: 2, inputTokens: 1, model: 'm', provider: 'openai' };
    const { body } = await u.post([{ source: 'a/2', payload: reordered, teamId: team, timestamp: at.replace('Z', '+00:00'), eventType: 'llm.tokens.v1', idempotencyKey: k }]);
    expect(body.results[0]!.status).toBe('duplicate');
  });

  it('reports a resend with a different payload as conflict and never counts it', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const event = llmEvent(team!, { inputTokens: 10 });
    await u.post([event]);
    const changed = { ...event, payload: { ...event.payload, inputTokens: 999 } };
    const { body } = await u.post([changed, llmEvent(team!, { inputTokens: 1 })]);
    expect(body.results.map((r) => [r.status, r.reason])).toEqual([['conflict', 'payload_differs'], ['accepted', undefined]]);
    expect(body).toMatchObject({ accepted: 1, conflicts: 1 });
    expect(await quantity(team!, 'llm.input_tokens')).toBe('11');
  });

  it('counts a key once within a batch and reports a different payload under the same key as conflict', async () => {
    const [team] = await createTeams(u.api, u.appId, 1);
    const a = llmEvent(team!, { inputTokens: 7 });
    const b = { ...a, payload: { ...a.payload, inputTokens: 70 } };
    const { body } = await u.post([a, a, b]);
    expect(body.results.map((r) => r.status)).toEqual(['accepted', 'duplicate', 'conflict']);
    expect(await quantity(team!, 'llm.input_tokens')).toBe('7');
  });

  it('scopes keys by app: the same key from another app is another event', async () => {
    const other = await usageApp({ api: u.api });
    await other.api.deps.sql`insert into team_apps (team_id, app_id) values (${u.teamIds[0]!}, ${other.appId})`;
    const event = llmEvent(u.teamIds[0]!, { inputTokens: 3 });
    expect((await u.post([event])).body.results[0]!.status).toBe('accepted');
    expect((await other.post([event])).body.results[0]!.status).toBe('accepted');
  });

  it('judges each event of one batch in its own team\'s time: a team on a test clock at its clock, the others at now', async () => {
    // usage_ingest looks each event's team up by its key for the clock (issue #16: it had read the
    // whole teams table for every call); a batch mixing both kinds of team still gets both windows.
    const [clocked, plain] = await createTeams(u.api, u.appId, 2);
    const clockId = `clock_${uniqueId('c').replace(/[^A-Za-z0-9]/g, '').slice(0, 30)}`;
    const frozenMs = Date.parse('2027-06-01T00:00:00Z');
    await adminSql()`insert into test_clocks (id, frozen_time, idempotency_key, request_hash) values (${clockId}, ${new Date(frozenMs)}, ${clockId}, '\\x00')`;
    await adminSql()`update teams set test_clock_id = ${clockId} where id = ${clocked!}`;
    const now = Date.now();
    const { status, body } = await u.post([
      llmEvent(clocked!, { at: frozenMs, inputTokens: 1 }),
      llmEvent(clocked!, { at: now, inputTokens: 2 }),
      llmEvent(plain!, { at: now, inputTokens: 3 }),
      llmEvent(plain!, { at: frozenMs, inputTokens: 4 }),
    ]);
    expect(status).toBe(200);
    expect(body.results.map((r) => [r.status, r.reason])).toEqual([
      ['accepted', undefined],
      ['rejected', 'timestamp_too_old'],
      ['accepted', undefined],
      ['rejected', 'timestamp_in_future'],
    ]);
    expect(await quantity(clocked!, 'llm.input_tokens')).toBe('1');
    expect(await quantity(plain!, 'llm.input_tokens')).toBe('3');
  });
});

describe('team checks', () => {
  it('refuses a batch with an unconnected team with 403 team_not_connected naming the events, and writes nothing', async () => {
    const stranger = uniqueId('team');
    const good = llmEvent(u.teamIds[1]!);
    const { status, body } = await u.post([good, llmEvent(stranger), llmEvent(stranger)]);
    expect(status).toBe(403);
    expect(body.code).toBe('team_not_connected');
    expect(body.details?.indexes).toEqual([1, 2]);
    expect(body.errors?.map((e) => e.path)).toEqual(['events.1.teamId', 'events.2.teamId']);
    const [row] = await adminSql()<{ n: number }[]>`select count(*)::int as n from usage_events where app_id = ${u.appId} and idempotency_key = ${good.idempotencyKey}`;
    expect(row!.n).toBe(0);
  });

  it('restricts a team-bound token to its team with 403 team_mismatch', async () => {
    const token = await u.token({ teamId: u.teamIds[0]! });
    const { status, body } = await u.post([llmEvent(u.teamIds[0]!), llmEvent(u.teamIds[1]!)], { token });
    expect(status).toBe(403);
    expect(body).toMatchObject({ code: 'team_mismatch', details: { indexes: [1] } });
  });

  it('requires the usage:write scope', async () => {
    const { status, body } = await u.post([llmEvent(u.teamIds[0]!)], { token: await u.token({ scopes: ['usage:read'] }) });
    expect(status).toBe(403);
    expect(body.code).toBe('scope_missing');
  });
});

describe('the API document', () => {
  it('describes the usage routes, the batch and every registered event type', async () => {
    const doc = (await (await u.api.request('GET', '/openapi.json')).json()) as {
      paths: Record<string, { post?: { description?: string } }>;
      components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
    };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/usage', '/v1/teams/{teamId}/usage', '/admin/cost-rates', '/admin/reports/margin']));
    const types = doc.components.schemas.UsageEvent!.properties!.eventType!.enum;
    expect(types).toEqual(expect.arrayContaining(['llm.tokens.v1', 'storage.bytes.v1', 'bandwidth.bytes.v1', 'image.generated.v1']));
    expect(doc.paths['/v1/usage']!.post!.description).toContain('LIMITS.usageBatchEventsMax');
  });
});
