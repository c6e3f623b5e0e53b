/** A version's entitlements: its features, those its add-ons turn on, and its limits with alert thresholds. */
import { describe, expect, it } from 'vitest';
import { versionEntitlements } from '../../src/catalog/plan-entitlements.js';
import { planInput } from './fixtures.js';

const version = {
  id: 'team-v1',
  ...planInput('team', {
    features: { sso: false, 'api-access': true },
    addOns: { sso: { name: 'SSO', price: '2', per: 'seat', features: ['sso'] } },
    limits: { seats: { value: '10', window: 'none', enforcement: 'hard' } },
  }),
};

describe('entitlements of a plan version', () => {
  it('are the plan features, with the limits and their default 80/100/120 % alerts', () => {
    const e = versionEntitlements(version);
    expect(e.features).toEqual({ sso: false, 'api-access': true });
    expect(e.limits.seats).toEqual({ value: '10', window: 'none', enforcement: 'hard', alertThresholdsPercent: ['80', '100', '120'] });
  });

  it('turn on the features of the add-ons a team has, without changing the version', () => {
    expect(versionEntitlements(version, ['sso']).features.sso).toBe(true);
    expect(version.features.sso).toBe(false);
  });

  it('refuse an add-on the version does not have', () => {
    expect(() => versionEntitlements(version, ['constructor'])).toThrow(/no add-on/);
  });
});
