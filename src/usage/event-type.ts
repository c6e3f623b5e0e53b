/**
 * What an event type is: a versioned name, a zod schema of its payload, and a pure mapping from a
 * valid payload to meter quantities with their dimensions. One file per type in event-types/,
 * default-exporting defineEventType({...}); the registry (event-registry.ts) finds it by itself.
 */
import type { z } from 'zod';
import type { MeterCode } from '../pricing/meters.js';

export interface MeterQuantity {
  meter: MeterCode;
  /** Non-negative. For `count` meters always 1; for gauges the value now; for `unique_count` 1. */
  quantity: number;
  /** Exactly the meter's dimensions (checked by the registry). `provider`/`model` also select the cost rate. */
  dimensions: Record<string, string>;
  /** For `unique_count` meters: the value counted once per period. */
  uniqueValue?: string;
}

export interface EventType<S extends z.ZodType = z.ZodType> {
  /** `<domain>.<thing>.v<N>`; the file is named after it with dots as dashes (llm.tokens.v1 → llm-tokens-v1.ts). */
  type: string;
  description: string;
  /** A strict zod schema: unknown fields are errors, so a typo never silently counts as zero. */
  payload: S;
  /** A valid payload, shown in the API docs and mapped by the registry test. */
  example: z.input<S>;
  /** Pure: the same payload always gives the same quantities. */
  toQuantities(payload: z.output<S>): MeterQuantity[];
}

/** Identity at runtime; it ties the mapping's parameter type to the schema. */
export function defineEventType<S extends z.ZodType>(definition: EventType<S>): EventType<S> {
  return definition;
}
