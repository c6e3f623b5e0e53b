/** Plans that tests and benchmarks publish. */

/** A team plan: $20 base, $5 per seat beyond 2, a $10 flat add-on, LLM input tokens at $0.01/1K beyond 100K. */
export function teamPlan(code: string) {
  return {
    code,
    name: `Team plan ${code}`,
    currency: 'USD',
    interval: 'month',
    baseFee: '20',
    seats: { unitPrice: '5', included: '2' },
    addOns: { support: { name: 'Priority support', price: '10', per: 'flat', features: [] } },
    features: { exports: true },
    limits: { llm_input_tokens: { meter: 'llm.input_tokens', value: '1000000', window: 'billing_period', enforcement: 'soft' } },
    usagePrices: [
      { key: 'llm-input', displayName: 'LLM input tokens', meter: 'llm.input_tokens', included: '100000', price: { model: 'per_unit', unitPrice: '0.01', per: '1000' } },
    ],
  };
}

