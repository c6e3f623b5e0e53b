/**
 * Checkout's success and cancel URLs are optional: a request without them uses its app's defaults,
 * set at registration or later by an operator; without either, the request is a 400 naming each
 * missing URL and nothing is written.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, services, startWorker, testApi, until, uniqueId, type TestApi } from '../helpers/context.js';
import { ALL_SCOPES, publishPlan, teamPlan, uniqueCode } from '../helpers/billing-scenario.js';
import { recordedStripeRequests } from '../helpers/stripe-recorder.js';
import { appToken } from '../helpers/tokens.js';

let api: TestApi;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  api = await testApi({ taskQueue });
  planCode = uniqueCode('urls');
  await publishPlan(api, teamPlan(planCode));
});

const SUCCESS = 'https://receipts.example/billing/done?session={CHECKOUT_SESSION_ID}';
const CANCEL = 'https://receipts.example/billing';

/** An app (with `defaults` at registration, if given) and a provisioned team connected to it. */
async function appWithTeam(defaults: Record<string, string> = {}) {
  const appId = uniqueId('app');
  const teamId = uniqueId('team');
  const registered = await api.admin('POST', '/admin/apps', { appId, name: 'Receipts', ...defaults });
  expect(registered.status).toBe(201);
  const { secret } = (await registered.json()) as { secret: string };
  expect((await api.admin('POST', '/admin/teams', { teamId, name: 'T', kind: 'shared', currency: 'USD', appIds: [appId] })).status).toBe(201);
  await until(async () => (await adminSql()`select 1 from billing_customers where team_id = ${teamId}`).length > 0, { what: 'Stripe customer' });
  const checkout = async (body: Record<string, unknown>) =>
    api.request('POST', `/v1/teams/${teamId}/checkout`, {
      token: await appToken({ appId, secret, teamId, scopes: ALL_SCOPES }),
      headers: { 'idempotency-key': `co-${randomBytes(6).toString('hex')}` },
      body: { planCode, seats: 1, ...body },
    });
  return { appId, teamId, checkout };
}

/** The success_url and cancel_url the checkout session of `subscriptionId` was created with at Stripe. */
async function sessionUrls(subscriptionId: string) {
  const [request] = await recordedStripeRequests(services.stripeRecorderUrl, { path: '/v1/checkout/sessions', contains: subscriptionId });
  const form = new URLSearchParams(request!.body);
  return { successUrl: form.get('success_url'), cancelUrl: form.get('cancel_url') };
}

describe('checkout URLs', () => {
  it("uses the app's defaults from its registration when the request names none", async () => {
    const { appId, checkout } = await appWithTeam({ checkoutSuccessUrl: SUCCESS, checkoutCancelUrl: CANCEL });
    const app = (await (await api.admin('GET', `/admin/apps/${appId}`)).json()) as { checkoutSuccessUrl: string; checkoutCancelUrl: string };
    expect(app).toMatchObject({ checkoutSuccessUrl: SUCCESS, checkoutCancelUrl: CANCEL });

    const res = await checkout({});
    expect(res.status).toBe(201);
    const { subscriptionId } = (await res.json()) as { subscriptionId: string };
    expect(await sessionUrls(subscriptionId)).toEqual({ successUrl: SUCCESS, cancelUrl: CANCEL });
  });

  it('prefers the URLs of the request to the defaults', async () => {
    const { checkout } = await appWithTeam({ checkoutSuccessUrl: SUCCESS, checkoutCancelUrl: CANCEL });
    const res = await checkout({ successUrl: 'https://other.example/ok' });
    expect(res.status).toBe(201);
    const { subscriptionId } = (await res.json()) as { subscriptionId: string };
    expect(await sessionUrls(subscriptionId)).toEqual({ successUrl: 'https://other.example/ok', cancelUrl: CANCEL });
  });

  it('names each missing URL when the app has no defaults, and writes nothing', async () => {
    const { teamId, checkout } = await appWithTeam();
    const res = await checkout({ cancelUrl: CANCEL });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; errors: { path: string; message: string }[] };
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((e) => e.path)).toEqual(['successUrl']);
    expect(problem.errors[0]!.message).toContain('checkoutSuccessUrl');
    expect(await adminSql()`select 1 from subscriptions where team_id = ${teamId}`).toHaveLength(0);
  });

  it('lets an operator set the defaults of an existing app, idempotently, and clear one', async () => {
    const { appId, checkout } = await appWithTeam();
    const set = await api.admin('PATCH', `/admin/apps/${appId}`, { checkoutSuccessUrl: SUCCESS, checkoutCancelUrl: CANCEL });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ appId, checkoutSuccessUrl: SUCCESS, checkoutCancelUrl: CANCEL });
    expect((await api.admin('PATCH', `/admin/apps/${appId}`, { checkoutSuccessUrl: SUCCESS })).status).toBe(200);
    const audits = await adminSql()`select 1 from audit_log where subject = ${appId} and action = 'app.checkout_defaults_set'`;
    expect(audits).toHaveLength(1);
    expect((await checkout({})).status).toBe(201);

    const cleared = await api.admin('PATCH', `/admin/apps/${appId}`, { checkoutCancelUrl: null });
    expect(await cleared.json()).toMatchObject({ checkoutSuccessUrl: SUCCESS, checkoutCancelUrl: null });
  });

  it('refuses URLs that are not http(s) or too long, naming the field', async () => {
    const res = await api.admin('POST', '/admin/apps', { appId: uniqueId('app'), name: 'Bad', checkoutSuccessUrl: 'javascript:alert(1)', checkoutCancelUrl: `https://x.example/${'a'.repeat(2048)}` });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['checkoutCancelUrl', 'checkoutSuccessUrl']);
  });
});
