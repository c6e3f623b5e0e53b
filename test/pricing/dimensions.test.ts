/** Per-dimension prices: the most specific matching price rates each counter, and ambiguity is caught before rating. */
import { describe, expect, it } from 'vitest';
import { ambiguousFilterIssues, rateUsage, selectPrice } from '../../src/pricing/dimensions.js';
import type { UsagePrice } from '../../src/pricing/types.js';

const perMillion = (unitPrice: string) => ({ model: 'per_unit' as const, unitPrice, per: '1000000' });
const price = (key: string, filter: Record<string, string> | undefined, unitPrice: string, extra: Partial<UsagePrice> = {}): UsagePrice => ({
  key,
  displayName: key,
  meter: 'llm.input_tokens',
  ...(filter ? { filter } : {}),
  price: perMillion(unitPrice),
  ...extra,
});

const prices: UsagePrice[] = [
  price('llm-input', undefined, '1'),
  price('llm-input-openai', { provider: 'openai' }, '2'),
  price('llm-input-gpt-5', { provider: 'openai', model: 'gpt-5' }, '1.25'),
];

describe('selecting a price for a counter', () => {
  it('takes the most specific matching filter, falling back to less specific ones', () => {
    expect(selectPrice(prices, 'llm.input_tokens', { provider: 'openai', model: 'gpt-5' })?.key).toBe('llm-input-gpt-5');
    expect(selectPrice(prices, 'llm.input_tokens', { provider: 'openai', model: 'gpt-4o' })?.key).toBe('llm-input-openai');
    expect(selectPrice(prices, 'llm.input_tokens', { provider: 'anthropic', model: 'claude' })?.key).toBe('llm-input');
  });

  it('finds nothing for another meter', () => {
    expect(selectPrice(prices, 'llm.output_tokens', {})).toBeNull();
  });

  it('refuses to guess between two equally specific matches', () => {
    const ambiguous = [price('by-provider', { provider: 'openai' }, '1'), price('by-model', { model: 'gpt-5' }, '2')];
    expect(() => selectPrice(ambiguous, 'llm.input_tokens', { provider: 'openai', model: 'gpt-5' })).toThrow(/equally/);
  });
});

describe('rating counters', () => {
  it('sums the counters that select one price before applying its allowance and tiers', () => {
    const tiered: UsagePrice[] = [
      {
        key: 'openai',
        displayName: 'OpenAI input',
        meter: 'llm.input_tokens',
        filter: { provider: 'openai' },
        included: '1000000',
        price: { model: 'graduated', per: '1000000', tiers: [{ upTo: '2000000', unitPrice: '2' }, { upTo: null, unitPrice: '1' }] },
      },
    ];
    const r = rateUsage(tiered, [
      { meter: 'llm.input_tokens', dimensions: { provider: 'openai', model: 'gpt-5' }, quantity: '2000000' },
      { meter: 'llm.input_tokens', dimensions: { provider: 'openai', model: 'gpt-4o' }, quantity: '2000000' },
    ]);
    // 4M total − 1M included = 3M billable: 2M at $2/M + 1M at $1/M.
    expect(r.amount.toFixed()).toBe('5');
    expect(r.lines[0]!.dimensions).toHaveLength(2);
    expect(r.lines[0]!.rating.quantity.toFixed()).toBe('4000000');
  });

  it('lists counters no price matches as unpriced, and charges nothing for them', () => {
    const r = rateUsage([price('openai-only', { provider: 'openai' }, '2')], [
      { meter: 'llm.input_tokens', dimensions: { provider: 'mistral', model: 'large' }, quantity: '1000000' },
    ]);
    expect(r.amount.toFixed()).toBe('0');
    expect(r.unpriced).toHaveLength(1);
  });

  it('gives every price a line, so a flat fee charged when unused still appears', () => {
    const r = rateUsage([{ key: 'platform', displayName: 'Platform', meter: 'image.generations', price: { model: 'flat', amount: '10', chargeWhenZero: true } }], []);
    expect(r.lines.map((l) => [l.price.key, l.rating.amount.toFixed()])).toEqual([['platform', '10']]);
  });
});

describe('ambiguity checks of a price list', () => {
  it('accept nested filters (each more specific than the last)', () => {
    expect(ambiguousFilterIssues(prices)).toEqual([]);
  });

  it('reject two prices with the same filter on one meter', () => {
    const issues = ambiguousFilterIssues([price('a', { provider: 'openai' }, '1'), price('b', { provider: 'openai' }, '2')]);
    expect(issues).toEqual([{ path: [1, 'filter'], message: expect.stringContaining('Same filter') }]);
  });

  it('reject overlapping filters where neither is more specific, unless their combination has its own price', () => {
    const pair = [price('by-provider', { provider: 'openai' }, '1'), price('by-model', { model: 'gpt-5' }, '2')];
    expect(ambiguousFilterIssues(pair)).toEqual([{ path: [1, 'filter'], message: expect.stringContaining('neither is more specific') }]);
    expect(ambiguousFilterIssues([...pair, price('both', { provider: 'openai', model: 'gpt-5' }, '3')])).toEqual([]);
  });

  it('accept filters that can never match the same counter', () => {
    expect(ambiguousFilterIssues([price('a', { provider: 'openai' }, '1'), price('b', { provider: 'anthropic', model: 'x' }, '2')])).toEqual([]);
  });
});
