/** Plans for catalog tests: unique codes so test files never collide in the shared database. */
import { randomBytes } from 'node:crypto';
import { PublishPlanSchema, type PublishPlanInput } from '../../src/catalog/schema.js';

export function planCode(prefix = 'plan'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A small valid plan; `overrides` replace top-level fields before validation. */
export function planInput(code: string, overrides: Record<string, unknown> = {}): PublishPlanInput {
  return PublishPlanSchema.parse(planBody(code, overrides));
}

/** The same plan as an API body (not yet validated). */
export function planBody(code: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    code,
    name: 'Team',
    currency: 'USD',
    interval: 'month',
    baseFee: '20',
    seats: { unitPrice: '5', included: '3' },
    features: { sso: false },
    usagePrices: [{ key: 'images', displayName: 'Images', meter: 'image.generations', price: { model: 'per_unit', unitPrice: '0.04' } }],
    ...overrides,
  };
}
