/**
 * Fuzzing every route: the operations come from the OpenAPI document the app serves (so a route added
 * later is fuzzed without editing this file), plus Stripe's webhook with real signatures. Seeded, on a
 * database of its own so "nothing written" is exact:
 *
 * 1. Valid writes through the api seed an app, a team (provisioned through its workflow), a plan, a
 *    cost rate, usage and two webhook events; each is checked for its effect.
 * 2. FUZZ_RUNS (≥ 20,000) requests in process: most carry a defect the service must refuse with a
 *    4xx problem (bad credential, path, query or body, signed webhooks that are not readable events),
 *    the rest are well-formed reads and stray requests. No answer may be a 5xx.
 * 3. A share of the same over real keep-alive sockets: no connection error, no 5xx.
 * 4. Afterwards every table is as it was, except the parked webhook bodies, which are exactly the
 *    distinct signed bodies sent; the service is ready, the ledger verifies and valid writes still work.
 *
 * Reproduce a failure with FUZZ_SEED=<printed seed> (and FUZZ_RUNS to shorten the run).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { dropDatabase, prepareDatabase } from '../../src/dev/database-setup.js';
import { verifyLedger, formatReport } from '../../src/ledger/verify.js';
import { createSql, type Sql } from '../../src/shared/db.js';
import { ERROR_STATUS, isErrorCode } from '../../src/shared/error-codes.js';
import { SCOPES } from '../../src/shared/scopes.js';
import { buildApi, type TestApi } from '../helpers/api.js';
import { services, startWorker, temporalClient, testStripe, TEST_ADMIN_TOKEN, TEST_TIMING, until } from '../helpers/context.js';
import { planBody } from '../catalog/fixtures.js';
import { changedTables, snapshotTables, type DbSnapshot } from '../helpers/route-fuzz/db-snapshot.js';
import { operationsOf, type Operation } from '../helpers/route-fuzz/operations.js';
import { canBreak, operationRequest, strayRequest, type Credentials, type FuzzRequest } from '../helpers/route-fuzz/requests.js';
import { pick, type NamedValues } from '../helpers/route-fuzz/schema-values.js';
import { webhookRequest } from '../helpers/route-fuzz/webhook-requests.js';
import { TEST_APP_DB_PASSWORD } from '../helpers/services.js';
import { checkoutCompleted, eventId, sendEvent } from '../helpers/stripe-webhooks.js';
import { appToken, tokenWithHeader } from '../helpers/tokens.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 20_000);
const SOCKET_RUNS = Math.max(1, Math.round(NUM_RUNS / 20));
const TEAM = 'team_fuzz';
const APP = 'app_fuzz';
const PLAN = 'fuzz-plan';

let owner: Sql;
let appPool: Sql;
let database: string;
let api: TestApi;
let stopWorker: () => Promise<void>;
let secret: string;
let before: DbSnapshot;
const parkedBodies = new Set<string>();
const statuses = new Map<string, number>();
const reached = new Map<string, Set<string>>();

beforeAll(async () => {
  database = `billing_fuzz_${Date.now()}_${process.pid}`;
  const urls = await prepareDatabase({ serverAdminUrl: services.serverAdminUrl, database, appPassword: TEST_APP_DB_PASSWORD });
  owner = createSql(urls.adminUrl, { applicationName: 'billing-fuzz-owner', max: 2 });
  appPool = createSql(urls.appUrl, { applicationName: 'billing-fuzz', max: 10 });
  const worker = await startWorker({ activities: createActivities({ sql: appPool, stripe: testStripe() }) });
  stopWorker = worker.stop;
  api = buildApi({ sql: appPool, temporal: await temporalClient(), stripeApiUrl: services.stripeApiUrl, taskQueue: worker.taskQueue, timing: TEST_TIMING });
});

afterAll(async () => {
  await stopWorker?.();
  await Promise.allSettled([owner?.end({ timeout: 5 }), appPool?.end({ timeout: 5 })]);
  if (database && !process.env.BILLING_TEST_KEEP_DB) await dropDatabase(services.serverAdminUrl, database);
});

const json = async <T>(res: Response) => (await res.json()) as T;
const rows = async (table: string) => Number((await owner.unsafe(`select count(*) as n from ${table}`))[0]!.n);

/** Phase 1: valid writes through the api, each checked for its effect; returns the app's newest secret. */
async function seed(): Promise<string> {
  const created = await api.admin('POST', '/admin/apps', { appId: APP, name: 'Fuzz' });
  expect(created.status).toBe(201);
  const rotated = await json<{ secret: string; activeSecretIds: string[] }>(await api.admin('POST', `/admin/apps/${APP}/secrets/rotate`));
  expect(rotated.activeSecretIds).toHaveLength(2);
  await api.admin('POST', '/admin/apps', { appId: 'app_spare', name: 'Spare' });
  const [spare] = (await json<{ secrets: { secretId: string }[] }>(await api.admin('GET', '/admin/apps/app_spare/secrets'))).secrets;
  expect((await api.admin('POST', `/admin/apps/app_spare/secrets/${spare!.secretId}/revoke`)).status).toBe(200);

  expect((await api.admin('POST', '/admin/teams', { teamId: TEAM, name: 'Fuzz team', kind: 'shared', appIds: [APP] })).status).toBe(201);
  await until(async () => (await json<{ stripeCustomerId: string | null }>(await api.admin('GET', `/admin/teams/${TEAM}`))).stripeCustomerId, { what: 'team provisioning', timeoutMs: 60_000 });
  expect((await api.admin('POST', '/admin/plans', planBody(PLAN))).status).toBe(201);
  const rate = { provider: 'openai', model: 'gpt-5', meter: 'llm.input_tokens', unitCost: '1.25', per: '1000000', effectiveFrom: '2020-01-01T00:00:00Z' };
  expect((await api.admin('POST', '/admin/cost-rates', rate)).status).toBe(201);

  const token = await appToken({ appId: APP, secret: rotated.secret, teamId: TEAM, scopes: [...SCOPES] });
  const events = Array.from({ length: 5 }, (_, i) => ({
    idempotencyKey: `seed-${i}`, eventType: 'llm.tokens.v1', timestamp: new Date().toISOString(), teamId: TEAM, source: 'fuzz/1',
    payload: { provider: 'openai', model: 'gpt-5', inputTokens: 1000 + i, outputTokens: 10 },
  }));
  const usage = await api.request('POST', '/v1/usage', { token, body: { events } });
  expect((await json<{ accepted: number }>(usage)).accepted).toBe(5);
  expect(await rows('usage_events')).toBe(5);
  // The batch queued its COGS; folding it now gives the ledger a posting to verify at the end.
  const fold = await json<{ postingKey: string | null; providers: string[] }>(await api.admin('POST', '/admin/usage/cogs-fold'));
  expect(fold.providers).toEqual(['openai']);
  expect(await rows('usage_cogs_queue')).toBe(0);

  const ignored = { id: eventId(), object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: 'cus_x', object: 'customer' } } };
  expect(await json(await sendEvent(api, ignored))).toEqual({ received: true, duplicate: false });
  const unmatched = checkoutCompleted({ sessionId: 'cs_x', subscriptionId: 'sub_unknown', stripeSubscriptionId: 'sub_s', stripeCustomerId: 'cus_x' });
  expect(await json(await sendEvent(api, unmatched))).toMatchObject({ parked: 'unmatched' });
  expect(await rows('stripe_events')).toBe(2);
  return rotated.secret;
}

let cached: { at: number; creds: Credentials } | undefined;
/** Tokens live at most five minutes: rebuilt every minute of the run. */
async function credentials(): Promise<Credentials> {
  if (cached && Date.now() - cached.at < 60_000) return cached.creds;
  const claims = { appId: APP, secret, teamId: TEAM };
  const creds: Credentials = {
    admin: TEST_ADMIN_TOKEN,
    app: await appToken({ ...claims, scopes: [...SCOPES] }),
    appNoScopes: await appToken({ ...claims, scopes: [] }),
    appOtherTeam: await appToken({ ...claims, teamId: 'team_other', scopes: [...SCOPES] }),
    appWrongSecret: await appToken({ ...claims, secret: 'bsk_not_the_secret_of_this_app_000000000000', scopes: [...SCOPES] }),
    appExpired: await appToken({ ...claims, scopes: [...SCOPES], iatOffsetS: -400, lifetimeS: 120 }),
    appAlgNone: tokenWithHeader({ alg: 'none', typ: 'JWT' }, { appId: APP, teamId: TEAM, scopes: [...SCOPES], iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }),
  };
  cached = { at: Date.now(), creds };
  return creds;
}

const NAMED: NamedValues = { teamId: [TEAM], appId: [APP], app: [APP], planCode: [PLAN], provider: ['openai'], model: ['gpt-5'], account: [`wallet:${TEAM}:USD`] };

function describeRequest(req: FuzzRequest): string {
  const body = req.body === undefined ? '(none)' : JSON.stringify(req.body.length > 1500 ? `${req.body.slice(0, 1500)}… (${req.body.length} chars)` : req.body);
  return `${req.method} ${req.url}\n  headers: ${JSON.stringify(req.headers)}\n  body: ${body}\n  defects: ${req.defects.join('; ') || '(none)'}\n  expected: ${req.expect}`;
}

/** Every answer: never a 5xx; a problem with a known code for every error; what the request's kind calls for. */
function check(req: FuzzRequest, res: { status: number; headers: Headers | http.IncomingHttpHeaders }, text: string): void {
  const header = (name: string) => (res.headers instanceof Headers ? res.headers.get(name) : (res.headers[name] as string | undefined)) ?? null;
  const fail = (why: string) => {
    throw new Error(`${why}\n  seed: ${SEED}\n  request: ${describeRequest(req)}\n  answer: ${res.status} ${text.slice(0, 800)}`);
  };
  statuses.set(`${req.kind} ${res.status}`, (statuses.get(`${req.kind} ${res.status}`) ?? 0) + 1);
  if (res.status >= 500) fail('5xx');
  if (header('x-content-type-options') !== 'nosniff') fail('no nosniff header');
  if (res.status >= 400) {
    if (!header('content-type')?.startsWith('application/problem+json')) fail('an error that is not problem+json');
    const problem = JSON.parse(text) as { code?: unknown; status?: unknown; errors?: unknown[] };
    if (!isErrorCode(problem.code) || ERROR_STATUS[problem.code] !== res.status || problem.status !== res.status) fail('a problem whose code does not match its status');
    if (problem.code === 'validation_failed' && !(Array.isArray(problem.errors) && problem.errors.length > 0)) fail('validation_failed without the bad fields named');
    if (res.status === 405 && !header('allow')) fail('405 without Allow');
  }
  if (req.expect === 'rejected' && (res.status < 400 || res.status >= 500)) fail('a defective request was not refused with a 4xx');
  if (req.expect === 'parked') {
    if (res.status !== 200 || (JSON.parse(text) as { parked?: string }).parked !== 'unprocessable') fail('a signed unreadable webhook body was not parked');
    parkedBodies.add(createHash('sha256').update(req.body ?? '').digest('hex'));
  }
  if (req.kind === 'read' || req.kind === 'defective') {
    const seen = reached.get(req.operation) ?? new Set<string>();
    seen.add(res.status === 400 ? `400 ${(JSON.parse(text) as { code: string }).code}` : String(res.status));
    reached.set(req.operation, seen);
  }
}

function nextRequest(g: fc.GeneratorValue, ops: Operation[], reads: Operation[], creds: Credentials, overSockets: boolean): FuzzRequest {
  const roll = g(fc.integer, { min: 0, max: 99 });
  if (roll < 76) return operationRequest(g, pick(g, ops), NAMED, creds, true);
  if (roll < 88) return operationRequest(g, pick(g, reads), NAMED, creds, false);
  if (roll < 97) return webhookRequest(g);
  // Over sockets, bodies over the limit are left to connection-close.test.ts: their early answer races the upload.
  const stray = strayRequest(g, ops, creds);
  return overSockets && stray.body !== undefined ? operationRequest(g, pick(g, reads), NAMED, creds, false) : stray;
}

describe(`fuzzing every route (seed ${SEED})`, () => {
  let ops: Operation[];
  let reads: Operation[];

  it('seeds a team, an app, a plan, a cost rate, usage and webhook events through the api', async () => {
    secret = await seed();
    const doc = await json<Parameters<typeof operationsOf>[0]>(await api.request('GET', '/openapi.json'));
    // Every operation a defect can reach; one that takes no input at all cannot be refused for one.
    ops = operationsOf(doc).filter(canBreak);
    reads = ops.filter((o) => o.method === 'GET');
    expect(ops.length).toBeGreaterThan(20);
    before = await snapshotTables(owner);
  }, 180_000);

  it(`answers ${NUM_RUNS} fuzzed requests in process without a 5xx, refusing every defective one with a 4xx problem`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const req = nextRequest(g, ops, reads, await credentials(), false);
        const res = await api.app.request(req.url, { method: req.method, headers: req.headers, body: req.body });
        check(req, res, await res.text());
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
    );
    const summary = [...statuses.entries()].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
    console.info(`[fuzz] seed ${SEED}: ${NUM_RUNS} requests in process in ${((Date.now() - started) / 1000).toFixed(1)} s; ${summary}`);
  }, 900_000);

  it(`answers ${SOCKET_RUNS} fuzzed requests over keep-alive sockets without a connection error or a 5xx`, async () => {
    const { serve } = await import('@hono/node-server');
    const server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const send = (req: FuzzRequest) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, agent, headers: req.headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        });
        r.on('error', (err) => reject(new Error(`connection error: ${err.message}\n  request: ${describeRequest(req)}`)));
        r.end(req.body);
      });
    try {
      await fc.assert(
        fc.asyncProperty(fc.gen(), async (g) => {
          const req = nextRequest(g, ops, reads, await credentials(), true);
          const res = await send(req);
          check(req, res, res.text);
        }),
        { seed: SEED + 1, numRuns: SOCKET_RUNS, endOnFailure: true },
      );
    } finally {
      agent.destroy();
      await new Promise((r) => server.close(r));
    }
  }, 300_000);

  it('leaves every table as it was but for the parked bodies, stays ready, verifies its ledger and still takes valid writes', async () => {
    const after = await snapshotTables(owner);
    const changed = changedTables(before, after);
    expect(changed.filter((c) => c.table !== 'stripe_events_parked')).toEqual([]);
    const parked = Number(after.get('stripe_events_parked')!.rows - before.get('stripe_events_parked')!.rows);
    expect(parked).toBe(parkedBodies.size);

    expect((await api.request('GET', '/health/ready')).status).toBe(200);
    const report = await verifyLedger(owner);
    expect(report.ok, formatReport(report)).toBe(true);
    expect(report.counts.entries).toBeGreaterThan(0);

    const token = await appToken({ appId: APP, secret, teamId: TEAM, scopes: ['usage:write'] });
    const event = { idempotencyKey: 'after-fuzz', eventType: 'image.generated.v1', timestamp: new Date().toISOString(), teamId: TEAM, source: 'fuzz/1', payload: { provider: 'openai', model: 'img', size: '512x512' } };
    expect((await json<{ accepted: number }>(await api.request('POST', '/v1/usage', { token, body: { events: [event] } }))).accepted).toBe(1);
    expect((await api.admin('POST', '/admin/apps', { appId: 'app_after_fuzz', name: 'After' })).status).toBe(201);

    // The generator must reach past authentication into the operations' validation, or the run proves little.
    const inputs = ops.filter((o) => o.body || o.parameters.length > 0).map((o) => `${o.method} ${o.path}`);
    const validated = inputs.filter((o) => [...(reached.get(o) ?? [])].some((s) => s.startsWith('400 ')));
    const unreached = inputs.filter((o) => !validated.includes(o));
    console.info(`[fuzz] validation reached in ${validated.length} of ${inputs.length} operations${unreached.length ? `; not in: ${unreached.join(', ')}` : ''}`);
    expect(validated.length).toBeGreaterThanOrEqual(Math.ceil(inputs.length * 0.8));
    const handled = reads.filter((o) => [...(reached.get(`${o.method} ${o.path}`) ?? [])].some((s) => /^(2|404|409|422)/.test(s)));
    expect(handled.length).toBeGreaterThanOrEqual(Math.ceil(reads.length * 0.8));
  }, 120_000);
});
