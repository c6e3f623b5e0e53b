/**
 * An app's view through the SDK over a real socket: it opens a checkout (safe to retry), sees the
 * subscription go live when Stripe's webhooks arrive, reports usage, and reads its entitlements and
 * how much of its limit the period has used.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createBillingClient, type BillingClient } from '../../sdk/src/index.js';
import { startHttpApi, startWorker, until, type TestApi } from '../helpers/context.js';
import { billingTeam, publishPlan, teamPlan, uniqueCode, type BillingTeam } from '../helpers/billing-scenario.js';
import { StripeSimulator } from '../helpers/stripe-simulator.js';
import { adminSql, services } from '../helpers/context.js';
import { sendEvent } from '../helpers/stripe-webhooks.js';

let api: TestApi;
let baseUrl: string;
let team: BillingTeam;
let billing: BillingClient;
let planCode: string;

beforeAll(async () => {
  const { taskQueue } = await startWorker();
  ({ api, baseUrl } = await startHttpApi({ taskQueue }));
  planCode = uniqueCode('sdk');
  await publishPlan(api, teamPlan(planCode));
  team = await billingTeam(api);
  billing = createBillingClient({ appId: team.appId, secret: team.secret, baseUrl });
});

describe('billing through the SDK', () => {
  it('opens a checkout once per key, goes live on Stripe’s webhooks, and reports entitlements with usage', async () => {
    const request = { planCode, seats: 2, successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/no', idempotencyKey: 'sdk-checkout-1' };
    const checkout = await billing.createCheckout(team.teamId, request);
    expect(checkout.url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    expect((await billing.createCheckout(team.teamId, request)).subscriptionId).toBe(checkout.subscriptionId);

    const sim = new StripeSimulator(adminSql(), services.stripeRecorderUrl, async (event) => void (await sendEvent(api, event)), { teamIds: () => [team.teamId] });
    await until(async () => (await sim.tick()) > 0 && (await billing.getSubscription(team.teamId)).status === 'active', { what: 'active subscription' });

    await billing.reportUsage(
      Array.from({ length: 3 }, (_, i) => ({
        idempotencyKey: `sdk-usage-${i}`,
        eventType: 'llm.tokens.v1',
        timestamp: new Date().toISOString(),
        teamId: team.teamId,
        payload: { provider: 'openai', model: 'gpt-5', inputTokens: 1_000, outputTokens: 10 },
        source: 'sdk-test/1.0',
      })),
    );
    const entitlements = await until(
      async () => {
        const e = await billing.getEntitlements(team.teamId);
        return e.limits.llm_input_tokens?.used === '3000' ? e : undefined;
      },
      { what: 'entitlements with usage' },
    );
    expect(entitlements).toMatchObject({ planVersionId: `${planCode}-v1`, restricted: false, features: { exports: true } });
    expect(entitlements.limits.llm_input_tokens).toMatchObject({ value: '1000000', remaining: '997000', exceeded: false, thresholdsReached: [] });
  }, 60_000);
});
