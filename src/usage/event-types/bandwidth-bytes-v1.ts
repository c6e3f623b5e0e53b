/** bandwidth.bytes.v1: bytes transferred, summed by direction. */
import { z } from 'zod';
import { defineEventType } from '../event-type.js';
import { amount, provider } from '../payload-fields.js';

export default defineEventType({
  type: 'bandwidth.bytes.v1',
  description: 'Bytes transferred in one direction (ingress into or egress out of the provider).',
  payload: z.object({ provider, direction: z.enum(['ingress', 'egress']), bytes: amount }).strict(),
  example: { provider: 'cloudflare', direction: 'egress', bytes: 1_048_576 },
  toQuantities: (p) => [{ meter: 'bandwidth.bytes', quantity: p.bytes, dimensions: { provider: p.provider, direction: p.direction } }],
});
