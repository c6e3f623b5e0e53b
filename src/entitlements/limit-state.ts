/** Where a team stands against one limit of its plan: pure, from the limit and the period's counters. */
import type { PlanLimit } from '../catalog/schema.js';
import { filterMatches } from '../pricing/dimensions.js';
import { Dec } from '../shared/money.js';
import type { LimitState as SdkLimitState } from '../../sdk/src/types.js';

/** The SDK's LimitState (the one definition of the wire shape), its window narrowed to the catalog's. */
export interface LimitState extends Omit<SdkLimitState, 'window'> {
  window: PlanLimit['window'];
}

/**
 * A limit metered over the billing period is checked against the counters of its meter that match its
 * filter; any other limit (seats, a window this service does not meter) is reported without usage.
 */
export function limitState(limit: PlanLimit, counters: readonly { meter: string; dimensions: Record<string, string>; quantity: string }[]): LimitState {
  const metered = limit.meter !== undefined && limit.window === 'billing_period';
  const used = metered
    ? counters.filter((c) => c.meter === limit.meter && filterMatches(limit.filter, c.dimensions)).reduce((t, c) => t.plus(c.quantity), new Dec(0))
    : null;
  const value = limit.value === null ? null : new Dec(limit.value);
  const percent = used && value && value.gt(0) ? used.div(value).times(100) : null;
  return {
    meter: limit.meter ?? null,
    value: limit.value,
    window: limit.window,
    enforcement: limit.enforcement,
    used: used?.toFixed() ?? null,
    remaining: used && value ? Dec.max(0, value.minus(used)).toFixed() : null,
    thresholdsReached: percent ? limit.alertThresholdsPercent.filter((t) => percent.gte(t)) : [],
    exceeded: Boolean(used && value && used.gt(value)),
  };
}
