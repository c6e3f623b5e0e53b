/**
 * The two known vectors from the product's seed documents, reproduced exactly:
 * seeds/003 (Standard plan, $99 base plus overages on the listed usage = $186.50) and
 * seeds/004 (25,000 API calls on the listed graduated tiers = $220).
 */
import { describe, expect, it } from 'vitest';
import { ratePlanCharges, type PlanPrices } from '../../src/pricing/plan-charges.js';
import { rateModel } from '../../src/pricing/rate.js';
import { roundToMinor } from '../../src/pricing/rounding.js';

describe('seeds/003: the Standard plan', () => {
  // "1M LLM tokens + $0.01/1K overage; 5K agent executions + $0.10 overage; 100K API calls + $0.001
  // overage; 100 GB storage + $0.50/GB overage; 25 user seats + $5/seat overage", $99/month.
  const standard: PlanPrices = {
    baseFee: '99',
    seats: { unitPrice: '5', included: '25' },
    addOns: {},
    usagePrices: [
      { key: 'llm-tokens', displayName: 'LLM tokens', meter: 'llm_tokens', included: '1000000', price: { model: 'per_unit', unitPrice: '0.01', per: '1000' } },
      { key: 'agent-executions', displayName: 'Agent executions', meter: 'agent_executions', included: '5000', price: { model: 'per_unit', unitPrice: '0.10' } },
      { key: 'api-calls', displayName: 'API calls', meter: 'api_calls', included: '100000', price: { model: 'per_unit', unitPrice: '0.001' } },
      { key: 'storage', displayName: 'Storage (GB)', meter: 'storage_gb', included: '100', price: { model: 'per_unit', unitPrice: '0.50' } },
    ],
  };
  const usage = {
    seats: '27',
    counters: [
      { meter: 'llm_tokens', dimensions: {}, quantity: '1500000' },
      { meter: 'agent_executions', dimensions: {}, quantity: '5500' },
      { meter: 'api_calls', dimensions: {}, quantity: '120000' },
      { meter: 'storage_gb', dimensions: {}, quantity: '105' },
    ],
  };

  it('charges exactly $186.50 for the listed usage', () => {
    const charges = ratePlanCharges(standard, usage);
    expect(charges.amount.toFixed(2)).toBe('186.50');
    expect(charges.amount.eq('186.5')).toBe(true);
    expect(roundToMinor(charges.amount, 6)).toBe(186_500_000n);
  });

  it('itemises the overages as the seed lists them', () => {
    const charges = ratePlanCharges(standard, usage);
    expect(charges.baseFee.toFixed()).toBe('99');
    expect(charges.seats?.amount.toFixed()).toBe('10');
    expect(charges.seats?.billable.toFixed()).toBe('2');
    expect(Object.fromEntries(charges.usage.lines.map((l) => [l.price.key, l.rating.amount.toFixed()]))).toEqual({
      'llm-tokens': '5',
      'agent-executions': '50',
      'api-calls': '20',
      storage: '2.5',
    });
    const overage = charges.amount.minus(charges.baseFee);
    expect(overage.toFixed()).toBe('87.5');
  });
});

describe('seeds/004: graduated API-call tiers', () => {
  it('charges exactly $220 for 25,000 calls (10,000 × $0.01 + 15,000 × $0.008)', () => {
    const r = rateModel(
      {
        model: 'graduated',
        tiers: [
          { upTo: '10000', unitPrice: '0.01' },
          { upTo: '50000', unitPrice: '0.008' },
          { upTo: null, unitPrice: '0.005' },
        ],
      },
      '25000',
    );
    expect(r.amount.eq('220')).toBe(true);
    expect(r.pieces.map((p) => [p.tier, p.quantity, p.unitPrice, p.amount])).toEqual([
      [1, '10000', '0.01', '100'],
      [2, '15000', '0.008', '120'],
    ]);
  });
});
