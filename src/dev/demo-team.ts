/**
 * The demo team of `npm start`: `team_demo`, created on a test clock of its own, put on the demo plan
 * by the operator route (POST /admin/teams/{teamId}/subscriptions, collected by invoice), with a first
 * round of usage reported by the demo app. All of it through the running api, the way an operator and
 * an app would, so the demo walks the product's own paths. A second start finds each piece and
 * creates nothing again.
 */
import { ApiCallError, type AdminApi } from '../cli/admin-api.js';
import type { AppApi } from './app-api.js';
import { demoUsageEvents, reportDemoUsage } from './demo-usage.js';
import { DEMO_APP_ID, DEMO_TEAM_ID } from './seed.js';

export const DEMO_PLAN_CODE = 'pro';
export const DEMO_SEATS = 7;

interface TeamView {
  teamId: string;
  testClockId: string | null;
}

interface SubscriptionView {
  subscriptionId: string;
  status: string;
  planVersionId: string;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
}

/** The demo team as the api knows it, or null before it exists. */
export async function findDemoTeam(admin: AdminApi): Promise<TeamView | null> {
  try {
    return (await admin.call<TeamView>('GET', `/admin/teams/${DEMO_TEAM_ID}`)).body;
  } catch (err) {
    if (err instanceof ApiCallError && err.status === 404) return null;
    throw err;
  }
}

/** The demo team's subscription as the demo app reads it, or null before it has one. */
export async function findDemoSubscription(app: AppApi): Promise<SubscriptionView | null> {
  try {
    return await app.call<SubscriptionView>('GET', `/v1/teams/${DEMO_TEAM_ID}/subscription`, { scopes: ['billing:read'], teamId: DEMO_TEAM_ID });
  } catch (err) {
    if (err instanceof ApiCallError && err.status === 404) return null;
    throw err;
  }
}

/** Today, midnight UTC: the demo clock starts there, so its periods begin on a readable instant. */
function todayUtc(): string {
  return `${new Date().toISOString().slice(0, 10)}T00:00:00Z`;
}

async function createClockedTeam(admin: AdminApi): Promise<TeamView> {
  const frozenTime = todayUtc();
  // Keyed by its start: a start interrupted before the team exists replays this clock the same day.
  const clock = await admin.call<{ testClockId: string }>('POST', '/admin/test-clocks', { body: { name: 'team_demo', frozenTime }, idempotencyKey: `demo-clock-${frozenTime}` });
  const team = await admin.call<TeamView>('POST', '/admin/teams', {
    body: { teamId: DEMO_TEAM_ID, name: 'Demo team', kind: 'shared', currency: 'USD', appIds: [DEMO_APP_ID], testClockId: clock.body.testClockId },
  });
  return team.body;
}

export type DemoTeamOutcome =
  | { ready: true; testClockId: string; subscription: SubscriptionView; created: boolean }
  | { ready: false; note: string };

/** Makes sure team_demo is on its clock with an active subscription; reports the first usage when it subscribes. */
export async function seedDemoTeam(admin: AdminApi, app: AppApi | null): Promise<DemoTeamOutcome> {
  const team = (await findDemoTeam(admin)) ?? (await createClockedTeam(admin));
  if (!team.testClockId) {
    return { ready: false, note: `${DEMO_TEAM_ID} lives in real time (created by an earlier version); for the demo, start with a fresh data folder` };
  }
  if (!app) return { ready: false, note: `the demo app's secret is not in the data folder, so the demo cannot report usage` };
  const existing = await findDemoSubscription(app);
  if (existing) return { ready: true, testClockId: team.testClockId, subscription: existing, created: false };

  await admin.call('POST', `/admin/teams/${DEMO_TEAM_ID}/subscriptions`, {
    body: { planCode: DEMO_PLAN_CODE, seats: DEMO_SEATS, collection: 'send_invoice' },
    idempotencyKey: 'demo-subscription',
  });
  const subscription = (await findDemoSubscription(app))!;
  await reportDemoUsage(app, demoUsageEvents(0, subscription.currentPeriodStart!, `demo-seed`));
  return { ready: true, testClockId: team.testClockId, subscription, created: true };
}
