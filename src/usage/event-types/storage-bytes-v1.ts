/** storage.bytes.v1: a gauge of the bytes a team stores now; averaged over the period (GB-month). */
import { z } from 'zod';
import { defineEventType } from '../event-type.js';
import { amount, provider } from '../payload-fields.js';

export default defineEventType({
  type: 'storage.bytes.v1',
  description:
    'Bytes the team stores now (a gauge). The value holds until the next report, across periods; the period quantity is the time-weighted average, priced per 1e9 bytes = per GB-month. Report on every change.',
  payload: z.object({ provider, bytes: amount }).strict(),
  example: { provider: 'aws-s3', bytes: 52_428_800 },
  toQuantities: (p) => [{ meter: 'storage.bytes', quantity: p.bytes, dimensions: { provider: p.provider } }],
});
