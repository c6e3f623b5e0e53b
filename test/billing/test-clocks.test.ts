/**
 * Test clocks: a team created on a clock lives in the clock's time. Its subscription's periods end
 * when the clock passes them, its usage is judged against the clock's time, and an advance answers
 * once every process of the team has settled — so a year of a team runs in seconds.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, startWorker, testApi, TEST_ADMIN_TOKEN, TEST_TIMING, until, type TestApi } from '../helpers/context.js';
import { publishPlan, teamPlan, uniqueCode } from '../helpers/billing-scenario.js';
import { appToken } from '../helpers/tokens.js';

let api: TestApi;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  // Calendar periods (the plan's month), as in production: the clock, not a short period, makes it fast.
  api = await testApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: null } });
  planCode = uniqueCode('clk');
  await publishPlan(api, teamPlan(planCode));
});

const admin = (method: string, path: string, body: unknown, key?: string) =>
  api.request(method, path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(key ? { 'idempotency-key': key } : {}) }, body });

async function clockedTeam(testApi: TestApi, frozenTime: string) {
  const call = (method: string, path: string, body: unknown, key?: string) =>
    testApi.request(method, path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(key ? { 'idempotency-key': key } : {}) }, body });
  const clockRes = await call('POST', '/admin/test-clocks', { name: 'a year of a team', frozenTime }, `clock-${randomBytes(6).toString('hex')}`);
  expect(clockRes.status).toBe(201);
  const clock = (await clockRes.json()) as { testClockId: string; frozenTime: string };
  const appId = `app_${randomBytes(5).toString('hex')}`;
  const teamId = `team_${randomBytes(5).toString('hex')}`;
  const { secret } = (await (await testApi.admin('POST', '/admin/apps', { appId, name: 'Clocked app' })).json()) as { secret: string };
  const team = await call('POST', '/admin/teams', { teamId, name: 'Clocked', kind: 'shared', currency: 'USD', appIds: [appId], testClockId: clock.testClockId });
  expect(team.status).toBe(201);
  expect(((await team.json()) as { testClockId: string }).testClockId).toBe(clock.testClockId);
  await until(async () => (await adminSql()`select 1 from billing_customers where team_id = ${teamId}`).length > 0, { what: 'provisioned customer', timeoutMs: 90_000 });
  return { clock, appId, teamId, secret, usageToken: () => appToken({ appId, secret, scopes: ['usage:write'] }) };
}

describe('a team on a test clock', () => {
  it('runs a year in seconds: twelve periods close in order as the clock passes their ends', async () => {
    const t = await clockedTeam(api, '2027-01-15T12:00:00Z');
    const started = await admin('POST', `/admin/teams/${t.teamId}/subscriptions`, { planCode, seats: 2, collection: 'send_invoice' }, 'year-start');
    expect(started.status).toBe(201);
    const sub = (await started.json()) as { subscriptionId: string; currentPeriodStart: string; currentPeriodEnd: string };
    // The first period starts at the clock's time and ends a calendar month later.
    expect(sub).toMatchObject({ currentPeriodStart: '2027-01-15T12:00:00.000Z', currentPeriodEnd: '2027-02-15T12:00:00.000Z' });

    // Usage is judged against the clock: at the clock's time it counts, at today's wall time it is too old.
    const tenth = await admin('POST', `/admin/test-clocks/${t.clock.testClockId}/advance`, { to: '2027-02-10T00:00:00Z' });
    expect(((await tenth.json()) as { settled: boolean; steps: string[] })).toMatchObject({ settled: true, steps: ['2027-02-10T00:00:00.000Z'] });
    const usage = await api.request('POST', '/v1/usage', {
      token: await t.usageToken(),
      body: {
        events: [
          { idempotencyKey: 'clk-1', eventType: 'llm.tokens.v1', timestamp: '2027-02-10T00:00:00Z', teamId: t.teamId, payload: { provider: 'openai', model: 'gpt-5', inputTokens: 150_000, outputTokens: 0 }, source: 'test/1.0' },
          { idempotencyKey: 'clk-2', eventType: 'llm.tokens.v1', timestamp: new Date().toISOString(), teamId: t.teamId, payload: { provider: 'openai', model: 'gpt-5', inputTokens: 1, outputTokens: 0 }, source: 'test/1.0' },
        ],
      },
    });
    const results = ((await usage.json()) as { results: { status: string; reason?: string }[] }).results;
    expect(results.map((r) => [r.status, r.reason])).toEqual([['accepted', undefined], ['rejected', 'timestamp_too_old']]);

    const began = Date.now();
    const res = await admin('POST', `/admin/test-clocks/${t.clock.testClockId}/advance`, { to: '2028-01-15T12:00:00Z' });
    const elapsedMs = Date.now() - began;
    expect(res.status).toBe(200);
    const advance = (await res.json()) as { settled: boolean; steps: string[]; testClock: { frozenTime: string; status: string } };
    expect(advance).toMatchObject({ settled: true, testClock: { frozenTime: '2028-01-15T12:00:00.000Z', status: 'ready' } });
    process.stdout.write(`[test-clocks] a year of a team: ${advance.steps.length} steps in ${elapsedMs} ms\n`);

    const invoices = await adminSql()<{ period_start: Date; period_end: Date; total_cents: bigint }[]>`
      select period_start, period_end, total_cents from invoices where subscription_id = ${sub.subscriptionId} order by period_start`;
    const ends = ['02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => `2027-${m}-15T12:00:00.000Z`);
    expect(invoices.map((i) => i.period_end.toISOString())).toEqual([...ends, '2028-01-15T12:00:00.000Z']);
    // Each period's close renews at $20 base + 0 extra seats; the first one also bills 50,000 tokens beyond the allowance: $0.50.
    expect(invoices.map((i) => i.total_cents)).toEqual([2050n, ...Array.from({ length: 11 }, () => 2000n)]);
    expect(advance.steps).toEqual([...ends, '2028-01-15T12:00:00.000Z']);

    const [row] = await adminSql()<{ current_period_start: Date }[]>`select current_period_start from subscriptions where id = ${sub.subscriptionId}`;
    expect(row!.current_period_start.toISOString()).toBe('2028-01-15T12:00:00.000Z');
    const back = await admin('POST', `/admin/test-clocks/${t.clock.testClockId}/advance`, { to: '2028-01-01T00:00:00Z' });
    expect(back.status).toBe(400);
  }, 180_000);
});
