/** Plan versions built in memory, for the pure billing functions (no database). */
import type { PlanVersion } from '../../src/catalog/plan-versions.js';
import { PlanInputSchema } from '../../src/catalog/schema.js';

/** Team: $20 a month, $5 per seat beyond 3, an SSO add-on at $2 per seat, images at $0.04 each. */
export function planVersion(overrides: Record<string, unknown> = {}, id = 'team-v1'): PlanVersion {
  const { code, name: _name, ...content } = PlanInputSchema.parse({
    code: id.replace(/-v\d+$/, ''),
    name: 'Team',
    currency: 'USD',
    interval: 'month',
    baseFee: '20',
    seats: { unitPrice: '5', included: '3' },
    features: { sso: false },
    addOns: { sso: { name: 'SSO', price: '2', per: 'seat', features: ['sso'] } },
    usagePrices: [{ key: 'images', displayName: 'Images', meter: 'image.generations', price: { model: 'per_unit', unitPrice: '0.04' } }],
    ...overrides,
  });
  return { ...content, id, planCode: code, version: Number(id.split('-v').pop()), publishedAt: '2026-01-01T00:00:00.000Z' };
}
