/** Field schemas shared by event-type payloads (see event-types/). */
import { z } from 'zod';
import { LIMITS } from '../shared/limits.js';

/**
 * Counts of tokens, bytes, images: whole, non-negative, and at most LIMITS.usageEventQuantityMax,
 * so nothing derived from them (counters, costs, prices) can overflow (src/shared/limits.ts).
 */
export const amount = z
  .number()
  .int()
  .nonnegative()
  .max(LIMITS.usageEventQuantityMax, `must be at most ${LIMITS.usageEventQuantityMax.toExponential()} (LIMITS.usageEventQuantityMax)`);

/** A provider as cost rates name it (`openai`, `anthropic`, `aws-s3`). */
export const provider = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1–64 lowercase letters, digits, ., _ or -');

/** A model name as the provider spells it (`gpt-5`, `claude-sonnet-4`). */
export const model = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
