/**
 * What a team may do right now: the features and limits of the plan version that prices it (with its
 * add-ons), how much of each metered limit the current period has used, and whether dunning has
 * restricted it. Restricted teams keep their limits visible but every feature is off.
 */
import { pricesForTeam } from '../catalog/team-plans.js';
import { versionEntitlements } from '../catalog/plan-entitlements.js';
import type { Queryable } from '../shared/db.js';
import { periodAt, periodCounters } from '../usage/billing-periods.js';
import { currentSubscription } from '../subscriptions/subscription-store.js';
import { limitState, type LimitState } from './limit-state.js';
import type { Entitlements as SdkEntitlements } from '../../sdk/src/types.js';

export type { LimitState } from './limit-state.js';

/** The SDK's Entitlements (the one definition of the wire shape), with the server's narrower limit states. */
export interface TeamEntitlements extends Omit<SdkEntitlements, 'limits'> {
  limits: Record<string, LimitState>;
}

export async function teamEntitlements(sql: Queryable, teamId: string, now = new Date()): Promise<TeamEntitlements> {
  const [prices, subscription, period] = await Promise.all([pricesForTeam(sql, teamId, now), currentSubscription(sql, teamId), periodAt(sql, teamId, now)]);
  const restricted = subscription?.status === 'restricted';
  const base = { teamId, subscriptionStatus: subscription?.status ?? null, restricted, periodStart: period?.periodStart ?? null, periodEnd: period?.periodEnd ?? null, computedAt: now.toISOString() };
  if (!prices) return { ...base, planVersionId: null, features: {}, limits: {} };
  const addOns = subscription && subscription.plan_version_id === prices.planVersion.id ? subscription.add_ons : [];
  const { features, limits } = versionEntitlements(prices.planVersion, addOns);
  const counters = period && Object.values(limits).some((l) => l.meter && l.window === 'billing_period') ? await periodCounters(sql, period.periodId) : [];
  const states: Record<string, LimitState> = {};
  for (const [name, limit] of Object.entries(limits)) {
    states[name] = limitState(limit, counters);
  }
  return {
    ...base,
    planVersionId: prices.planVersion.id,
    features: restricted ? Object.fromEntries(Object.keys(features).map((f) => [f, false])) : features,
    limits: states,
  };
}
