/** llm.tokens.v1: one LLM call's tokens, by provider and model. */
import { z } from 'zod';
import { defineEventType } from '../event-type.js';
import { amount, model, provider } from '../payload-fields.js';

export default defineEventType({
  type: 'llm.tokens.v1',
  description:
    'Tokens of one LLM call. inputTokens are billed at the full input rate; report prompt tokens served from the provider cache in cachedInputTokens (not also in inputTokens).',
  payload: z
    .object({ provider, model, inputTokens: amount, outputTokens: amount, cachedInputTokens: amount.optional() })
    .strict(),
  example: { provider: 'openai', model: 'gpt-5', inputTokens: 1200, outputTokens: 350 },
  toQuantities: (p) => {
    const dimensions = { provider: p.provider, model: p.model };
    return [
      { meter: 'llm.input_tokens', quantity: p.inputTokens, dimensions },
      { meter: 'llm.output_tokens', quantity: p.outputTokens, dimensions },
      ...(p.cachedInputTokens === undefined ? [] : [{ meter: 'llm.cached_input_tokens' as const, quantity: p.cachedInputTokens, dimensions }]),
    ];
  },
});
