/** fixedComponents and componentKeys: what a subscription pays for each period, one Stripe item per component. */
import { describe, expect, it } from 'vitest';
import { componentKeys, fixedComponents } from '../../src/subscriptions/components.js';
import { planVersion } from '../billing/plan-versions.js';

const team = planVersion();

describe('fixedComponents', () => {
  it.each([
    // seats, add-ons, [key, stripe quantity, cost] per component
    [1, [], [['base', 1, '20'], ['seat', 1, '0']]],
    [3, [], [['base', 1, '20'], ['seat', 3, '0']]],
    [5, [], [['base', 1, '20'], ['seat', 5, '10']]],
    [5, ['sso'], [['base', 1, '20'], ['seat', 5, '10'], ['add_on:sso', 5, '10']]],
  ] as const)('%i seats with add-ons %j', (seats, addOns, expected) => {
    const got = fixedComponents(team, seats, [...addOns]).map((c) => [c.key, c.stripeQuantity, c.cost.toFixed()]);
    expect(got).toEqual(expected);
  });

  it('prices a flat add-on once, whatever the seats', () => {
    const plan = planVersion({ addOns: { audit: { name: 'Audit log', price: '7.5', per: 'flat', features: [] } } });
    expect(fixedComponents(plan, 9, ['audit']).find((c) => c.key === 'add_on:audit')).toMatchObject({ stripeQuantity: 1, description: 'Audit log' });
  });

  it('has no base component for a plan without a base fee, and none for seats on a plan without seat prices', () => {
    const plan = planVersion({ baseFee: '0', seats: undefined });
    expect(fixedComponents(plan, 4, [])).toEqual([]);
    expect(componentKeys(plan, [])).toEqual([]);
  });

  it('sorts add-ons, so the order of a request never changes the items', () => {
    const plan = planVersion({ addOns: { b: { name: 'B', price: '1', per: 'seat', features: [] }, a: { name: 'A', price: '1', per: 'seat', features: [] } } });
    expect(fixedComponents(plan, 1, ['b', 'a']).map((c) => c.key)).toEqual(['base', 'seat', 'add_on:a', 'add_on:b']);
    expect(componentKeys(plan, ['b', 'a'])).toEqual(['base', 'seat', 'add_on:a', 'add_on:b']);
  });

  it('refuses an add-on the plan does not have', () => {
    expect(() => fixedComponents(team, 1, ['nope'])).toThrow(RangeError);
  });
});
