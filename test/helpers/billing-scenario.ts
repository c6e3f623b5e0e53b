/**
 * Builds the world a subscription test needs through the public API, the way an operator and an app
 * would: an app, a plan, a provisioned team, a Checkout completed by (simulated) Stripe webhooks.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApi } from './context.js';
import { adminSql, until } from './context.js';
import { appToken } from './tokens.js';
import { checkoutCompleted, sendEvent, subscriptionEvent } from './stripe-webhooks.js';
export { teamPlan } from './plans.js';

export const ALL_SCOPES = ['teams:read', 'usage:write', 'usage:read', 'billing:read', 'entitlements:read', 'checkout:write', 'subscription:write', 'catalog:read'];

export interface BillingTeam {
  appId: string;
  secret: string;
  teamId: string;
  stripeCustomerId: string;
  token(): Promise<string>;
}

export function uniqueCode(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export async function publishPlan(api: TestApi, plan: Record<string, unknown>): Promise<string> {
  const res = await api.admin('POST', '/admin/plans', plan);
  expect([200, 201]).toContain(res.status);
  return ((await res.json()) as { id: string }).id;
}

export async function billingTeam(api: TestApi): Promise<BillingTeam> {
  const appId = `app_${randomBytes(5).toString('hex')}`;
  const teamId = `team_${randomBytes(5).toString('hex')}`;
  const { secret } = (await (await api.admin('POST', '/admin/apps', { appId, name: 'Subscriber app' })).json()) as { secret: string };
  const created = await api.admin('POST', '/admin/teams', { teamId, name: 'Subscriber', kind: 'shared', currency: 'USD', appIds: [appId] });
  expect(created.status).toBe(201);
  const stripeCustomerId = await until(
    async () => (await adminSql()<{ id: string }[]>`select stripe_customer_id as id from billing_customers where team_id = ${teamId}`)[0]?.id,
    // Generous: the crash test provisions ten teams at once through a worker process still starting.
    { what: 'provisioned Stripe customer', timeoutMs: 90_000 },
  );
  return { appId, secret, teamId, stripeCustomerId, token: () => appToken({ appId, secret, teamId, scopes: ALL_SCOPES }) };
}

export interface Subscribed {
  subscriptionId: string;
  stripeSubscriptionId: string;
  periodStart: string;
  periodEnd: string;
}

/** Checkout, then Stripe's two webhooks (subscription created, session completed); waits until active. */
export async function subscribe(api: TestApi, team: BillingTeam, planCode: string, seats: number, addOns: string[] = []): Promise<Subscribed> {
  const res = await api.request('POST', `/v1/teams/${team.teamId}/checkout`, {
    token: await team.token(),
    headers: { 'idempotency-key': `co-${randomBytes(6).toString('hex')}` },
    body: { planCode, seats, addOns, successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/no' },
  });
  expect(res.status).toBe(201);
  const co = (await res.json()) as { subscriptionId: string; checkoutSessionId: string; planVersionId: string };
  const prices = await adminSql()<{ component: string; stripe_price_id: string }[]>`
    select component, stripe_price_id from stripe_prices where plan_version_id = ${co.planVersionId}`;
  const quantity = (component: string) => (component === 'seat' ? seats : 1);
  const stripeSubscriptionId = `sub_test_${randomBytes(8).toString('hex')}`;
  const now = new Date();
  const items = prices
    .filter((p) => p.component === 'base' || p.component === 'seat' || addOns.includes(p.component.replace('add_on:', '')))
    .map((p) => ({ id: `si_${p.component.replace(/\W/g, '')}_${randomBytes(4).toString('hex')}`, priceId: p.stripe_price_id, quantity: quantity(p.component) }));
  const periodEnd = new Date(now.getTime() + 30 * 24 * 3600 * 1000).toISOString();
  expect((await sendEvent(api, subscriptionEvent('customer.subscription.created', { stripeSubscriptionId, subscriptionId: co.subscriptionId, items, periodStart: now.toISOString(), periodEnd }))).status).toBe(200);
  expect(
    (
      await sendEvent(
        api,
        checkoutCompleted({ sessionId: co.checkoutSessionId, subscriptionId: co.subscriptionId, stripeSubscriptionId, stripeCustomerId: team.stripeCustomerId }),
      )
    ).status,
  ).toBe(200);
  const row = await until(
    async () => {
      const [r] = await adminSql()<{ status: string; current_period_start: Date; current_period_end: Date }[]>`
        select status, current_period_start, current_period_end from subscriptions where id = ${co.subscriptionId}`;
      return r?.status === 'active' ? r : undefined;
    },
    { what: 'active subscription' },
  );
  return {
    subscriptionId: co.subscriptionId,
    stripeSubscriptionId,
    periodStart: row.current_period_start.toISOString(),
    periodEnd: row.current_period_end.toISOString(),
  };
}

export async function reportTokens(api: TestApi, team: BillingTeam, inputTokens: number, count = 1): Promise<void> {
  const token = await appToken({ appId: team.appId, secret: team.secret, scopes: ['usage:write'] });
  const events = Array.from({ length: count }, () => ({
    idempotencyKey: `u-${randomBytes(8).toString('hex')}`,
    eventType: 'llm.tokens.v1',
    timestamp: new Date().toISOString(),
    teamId: team.teamId,
    payload: { provider: 'openai', model: 'gpt-5', inputTokens, outputTokens: 10 },
    source: 'test/1.0',
  }));
  const res = await api.request('POST', '/v1/usage', { token, body: { events } });
  expect(res.status).toBe(200);
}

export async function invoiceOf(subscriptionId: string, periodStart: string) {
  return until(
    async () =>
      (
        await adminSql()<{ id: string; status: string; total_cents: bigint; stripe_invoice_id: string | null; ledger_transaction_id: string | null; period_end: Date }[]>`
          select id, status, total_cents, stripe_invoice_id, ledger_transaction_id, period_end from invoices
          where subscription_id = ${subscriptionId} and period_start = ${periodStart}`
      )[0],
    { what: `invoice of ${subscriptionId} from ${periodStart}`, timeoutMs: 60_000 },
  );
}
