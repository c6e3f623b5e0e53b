/** image.generated.v1: one generated image, counted by model and size. */
import { z } from 'zod';
import { defineEventType } from '../event-type.js';
import { model, provider } from '../payload-fields.js';

export default defineEventType({
  type: 'image.generated.v1',
  description: 'One generated image (send one event per image).',
  payload: z.object({ provider, model, size: z.string().regex(/^[1-9]\d{1,4}x[1-9]\d{1,4}$/, 'must look like 1024x1024') }).strict(),
  example: { provider: 'openai', model: 'gpt-image-1', size: '1024x1024' },
  toQuantities: (p) => [{ meter: 'image.generations', quantity: 1, dimensions: { provider: p.provider, model: p.model, size: p.size } }],
});
