/** Plan validation names every bad field at once, including what only the catalog knows (meters, dimensions, features). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PublishPlanSchema } from '../../src/catalog/schema.js';
import { parseCatalogFile } from '../../src/catalog/catalog-file.js';
import { type AppError } from '../../src/shared/errors.js';
import { PROJECT_ROOT } from '../../src/shared/paths.js';
import { zodFields } from '../../src/shared/zod-fields.js';

const valid = {
  code: 'team-plan',
  name: 'Team',
  currency: 'USD',
  interval: 'month',
  baseFee: '20',
  usagePrices: [{ key: 'images', displayName: 'Images', meter: 'image.generations', price: { model: 'per_unit', unitPrice: '0.04' } }],
};

function errorsOf(input: unknown): Record<string, string> {
  const r = PublishPlanSchema.safeParse(input);
  if (r.success) return {};
  return Object.fromEntries(zodFields(r.error).map((f) => [f.path, f.message]));
}

describe('validating a plan', () => {
  it('accepts a minimal plan and fills the defaults', () => {
    const plan = PublishPlanSchema.parse(valid);
    expect(plan.seats).toBeNull();
    expect(plan.addOns).toEqual({});
    expect(plan.features).toEqual({});
  });

  it('names every bad field in one pass: unknown meter, overlapping tiers, bad dimension, bad decimal, duplicate key', () => {
    const errors = errorsOf({
      ...valid,
      currency: 'JPY',
      baseFee: 99,
      seats: { unitPrice: '5', included: '2.5' },
      usagePrices: [
        { key: 'a', displayName: 'A', meter: 'llm.tokens', price: { model: 'per_unit', unitPrice: '0.01' } },
        {
          key: 'b',
          displayName: 'B',
          meter: 'image.generations',
          filter: { colour: 'red' },
          price: { model: 'graduated', tiers: [{ upTo: '100', unitPrice: '1' }, { upTo: '50', unitPrice: '0.5' }, { upTo: null, unitPrice: '0.1' }] },
        },
        { key: 'b', displayName: 'B again', meter: 'bandwidth.bytes', price: { model: 'per_unit', unitPrice: '0.01', per: '1024' } },
      ],
    });
    expect(Object.keys(errors).sort()).toEqual([
      'baseFee',
      'currency',
      'seats.included',
      'usagePrices.0.meter',
      'usagePrices.1.filter.colour',
      'usagePrices.1.price.tiers.1.upTo',
      'usagePrices.2.price.per',
    ]);
    expect(errors['usagePrices.0.meter']).toMatch(/unknown meter "llm.tokens"/);
    expect(errors['usagePrices.1.price.tiers.1.upTo']).toMatch(/tiers overlap/);
    expect(errors.baseFee).toMatch(/decimal string/);
  });

  it('reports duplicate keys and ambiguous filters once every price is well-formed', () => {
    const price = { model: 'per_unit', unitPrice: '1', per: '1000000' };
    const errors = errorsOf({
      ...valid,
      usagePrices: [
        { key: 'openai', displayName: 'OpenAI', meter: 'llm.input_tokens', filter: { provider: 'openai' }, price },
        { key: 'gpt-5', displayName: 'GPT-5', meter: 'llm.input_tokens', filter: { model: 'gpt-5' }, price },
        { key: 'openai', displayName: 'Dup', meter: 'llm.output_tokens', price },
      ],
    });
    expect(errors).toEqual({
      'usagePrices.1.filter': expect.stringMatching(/neither is more specific/),
      'usagePrices.2.key': expect.stringMatching(/duplicate key/),
    });
  });

  it('requires the last tier to be unbounded and only it', () => {
    const errors = errorsOf({
      ...valid,
      usagePrices: [
        {
          key: 'v',
          displayName: 'V',
          meter: 'image.generations',
          price: { model: 'volume', tiers: [{ upTo: null, unitPrice: '1' }, { upTo: '10', unitPrice: '2' }] },
        },
      ],
    });
    expect(Object.keys(errors).sort()).toEqual(['usagePrices.0.price.tiers.0.upTo', 'usagePrices.0.price.tiers.1.upTo']);
  });

  it('checks limits, add-on features and unknown fields', () => {
    const errors = errorsOf({
      ...valid,
      features: { sso: false },
      addOns: { extra: { name: 'Extra', price: '5', per: 'seat', features: ['sso', 'audit-log'] } },
      limits: {
        tokens: { meter: 'llm.input_tokens', filter: { region: 'eu' }, value: '1000', window: 'week', enforcement: 'hard', alertThresholdsPercent: ['100', '80'] },
      },
      surprise: true,
    });
    expect(Object.keys(errors).sort()).toEqual(['limits.tokens.window', 'surprise']);
    const second = errorsOf({
      ...valid,
      features: { sso: false },
      addOns: { extra: { name: 'Extra', price: '5', per: 'seat', features: ['sso', 'audit-log'] } },
      limits: { tokens: { meter: 'llm.input_tokens', filter: { region: 'eu' }, value: '1000', window: 'month', enforcement: 'hard', alertThresholdsPercent: ['100', '80'] } },
    });
    expect(Object.keys(second).sort()).toEqual(['addOns.extra.features.1', 'limits.tokens.alertThresholdsPercent.1', 'limits.tokens.filter.region']);
  });

  it('normalises decimals so that equal prices are written the same way', () => {
    const plan = PublishPlanSchema.parse({ ...valid, baseFee: '20.50', usagePrices: [{ ...valid.usagePrices[0], price: { model: 'per_unit', unitPrice: '0.040' } }] });
    expect(plan.baseFee).toBe('20.5');
    expect(plan.usagePrices[0]!.price).toEqual({ model: 'per_unit', unitPrice: '0.04' });
  });
});

describe('catalog files', () => {
  it('parse the demo catalog, keeping every number as the exact decimal written', () => {
    const catalog = parseCatalogFile(readFileSync(join(PROJECT_ROOT, 'catalog', 'plans.yaml'), 'utf8'));
    expect(catalog.plans.map((p) => p.code)).toEqual(['free', 'pro', 'standard', 'enterprise']);
    const standard = catalog.plans.find((p) => p.code === 'standard')!;
    expect(standard.baseFee).toBe('99');
    expect(standard.seats).toEqual({ unitPrice: '5', included: '25' });
    expect(standard.usagePrices.find((p) => p.key === 'llm-input')!.price).toEqual({ model: 'per_unit', unitPrice: '0.01', per: '1000' });
  });

  it('read numbers with more digits than a float holds exactly, never through a float', () => {
    const catalog = parseCatalogFile(`plans:\n  - { code: exact, name: Exact, currency: USD, interval: month, baseFee: 123456789012.123456789012 }\n`);
    expect(catalog.plans[0]!.baseFee).toBe('123456789012.123456789012');
  });

  it('report YAML syntax errors with their line, and schema errors by path', () => {
    const errorOf = (text: string) => {
      try {
        parseCatalogFile(text);
      } catch (e) {
        expect((e as AppError).code).toBe('validation_failed');
        return (e as AppError).fields?.map((f) => f.path);
      }
    };
    expect(errorOf('plans:\n  - code: [unclosed\n')?.[0]).toMatch(/^\(line \d+, column \d+\)$/);
    expect(errorOf('plans:\n  - { code: a1, name: A, currency: USD, interval: month, baseFee: 1e3 }\n')).toEqual(['plans.0.baseFee']);
    expect(errorOf('plans:\n  - { code: a1, name: A, currency: USD, interval: month, baseFee: 1 }\n  - { code: a1, name: B, currency: USD, interval: month, baseFee: 2 }\n')).toEqual(['plans.1.code']);
  });
});
