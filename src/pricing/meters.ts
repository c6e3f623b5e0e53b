/**
 * Meters: what usage is counted as, how it aggregates over a billing period, and by which dimensions.
 * Event types (src/usage/event-types/) map their payloads onto these meters; plan prices and cost
 * rates reference meters by code. Adding a meter is a line here plus the event type that feeds it.
 *
 * COGS: a meter whose dimensions include `provider` (and optionally `model`) is costed with the cost
 * rate of that provider/model/meter (src/usage/cost-rates.ts); meters without a provider cost nothing.
 *
 * Bounds: each meter has a ceiling per counter stripe (additive meters) and so a largest period
 * quantity, which caps its prices and cost rates; the arithmetic is in src/shared/limits.ts.
 */
import { Dec } from '../shared/money.js';
import { LIMITS } from '../shared/limits.js';

export type Aggregation =
  /** Sum of quantities (tokens, bytes transferred). */
  | 'sum'
  /** Number of events (image generations, API calls). */
  | 'count'
  /** Largest value seen in the period. */
  | 'max'
  /** Value of the latest event by timestamp (ties: app id, then idempotency key). */
  | 'latest'
  /** Number of distinct values of a payload field. */
  | 'unique_count'
  /** A gauge integrated over time: quantity = average value over the period (e.g. bytes stored → GB-month). */
  | 'time_weighted';

export const AGGREGATIONS: readonly Aggregation[] = ['sum', 'count', 'max', 'latest', 'unique_count', 'time_weighted'];

/**
 * Sum and count add up event by event, so each event's quantity and cost are its own; the others
 * depend on the other events of the period (a maximum, the latest value, the distinct set, a gauge
 * curve), so their cost is the period quantity at the rate in effect at the period start.
 */
export function isAdditive(aggregation: Aggregation): boolean {
  return aggregation === 'sum' || aggregation === 'count';
}

export interface MeterDefinition {
  code: string;
  aggregation: Aggregation;
  /** Unit of the counted quantity as stored (prices may be per many units, e.g. per 1,000,000 tokens). */
  unit: string;
  /** Dimension names; counters are kept per distinct combination of their values. */
  dimensions: readonly string[];
  description: string;
  /** Additive meters: the most one counter stripe may hold in a period (the ingest transaction enforces it). */
  stripeQuantityMax: number;
}

export const METERS = {
  'llm.input_tokens': { code: 'llm.input_tokens', aggregation: 'sum', unit: 'token', dimensions: ['provider', 'model'], description: 'Prompt tokens billed at the full input rate (not served from cache)', stripeQuantityMax: LIMITS.usageTokensPerStripeMax },
  'llm.output_tokens': { code: 'llm.output_tokens', aggregation: 'sum', unit: 'token', dimensions: ['provider', 'model'], description: 'Completion tokens received from an LLM', stripeQuantityMax: LIMITS.usageTokensPerStripeMax },
  'llm.cached_input_tokens': { code: 'llm.cached_input_tokens', aggregation: 'sum', unit: 'token', dimensions: ['provider', 'model'], description: 'Prompt tokens served from the provider cache', stripeQuantityMax: LIMITS.usageTokensPerStripeMax },
  'storage.bytes': { code: 'storage.bytes', aggregation: 'time_weighted', unit: 'byte', dimensions: ['provider'], description: 'Bytes stored, averaged over the period (price per 1e9 = per GB-month)', stripeQuantityMax: LIMITS.usageBytesPerStripeMax },
  'bandwidth.bytes': { code: 'bandwidth.bytes', aggregation: 'sum', unit: 'byte', dimensions: ['provider', 'direction'], description: 'Bytes transferred, by direction (ingress, egress)', stripeQuantityMax: LIMITS.usageBytesPerStripeMax },
  'image.generations': { code: 'image.generations', aggregation: 'count', unit: 'image', dimensions: ['provider', 'model', 'size'], description: 'Images generated, by model and size', stripeQuantityMax: LIMITS.usageCountPerStripeMax },
} as const satisfies Record<string, MeterDefinition>;

export type MeterCode = keyof typeof METERS;

export function isMeterCode(code: string): code is MeterCode {
  return Object.hasOwn(METERS, code);
}

/**
 * The largest quantity a counter of `meter` can reach in one period: its stripes each at their
 * ceiling (additive), or one event's largest quantity (a gauge average, a maximum, a latest value).
 */
export function periodQuantityMax(meter: MeterDefinition): Dec {
  return isAdditive(meter.aggregation) ? new Dec(meter.stripeQuantityMax).times(LIMITS.usageCounterStripesMax) : new Dec(LIMITS.usageEventQuantityMax);
}

/** The highest price or cost per unit of `meter` whose period amount still fits LIMITS.usageCounterAmountMaxUsd. */
export function unitAmountMaxUsd(meter: MeterDefinition): Dec {
  return new Dec(LIMITS.usageCounterAmountMaxUsd).div(periodQuantityMax(meter));
}
