/** limitState: where a team stands against one limit of its plan, from the period's counters. */
import { describe, expect, it } from 'vitest';
import type { PlanLimit } from '../../src/catalog/schema.js';
import { limitState } from '../../src/entitlements/limit-state.js';

const ALERTS = ['80', '100', '120'];
const tokens = (o: Partial<PlanLimit> = {}): PlanLimit => ({ meter: 'llm.input_tokens', value: '1000', window: 'billing_period', enforcement: 'hard', alertThresholdsPercent: ALERTS, ...o });
const counter = (quantity: string, dimensions: Record<string, string> = { provider: 'openai', model: 'gpt-5' }) => ({ meter: 'llm.input_tokens', dimensions, quantity });

describe('limitState', () => {
  it.each<[string, PlanLimit, ReturnType<typeof counter>[], Partial<ReturnType<typeof limitState>>]>([
    ['no usage yet', tokens(), [], { used: '0', remaining: '1000', thresholdsReached: [], exceeded: false }],
    ['usage summed over dimension sets', tokens(), [counter('300'), counter('500', { provider: 'anthropic', model: 'c' })], { used: '800', remaining: '200', thresholdsReached: ['80'], exceeded: false }],
    ['exactly at the value: reached, not exceeded', tokens(), [counter('1000')], { used: '1000', remaining: '0', thresholdsReached: ['80', '100'], exceeded: false }],
    ['beyond it', tokens(), [counter('1250')], { used: '1250', remaining: '0', thresholdsReached: ['80', '100', '120'], exceeded: true }],
    ['only counters matching the filter', tokens({ filter: { provider: 'openai' } }), [counter('900'), counter('900', { provider: 'anthropic', model: 'c' })], { used: '900', thresholdsReached: ['80'] }],
    ['unlimited: usage shown, nothing remaining or reached', tokens({ value: null }), [counter('5')], { used: '5', remaining: null, thresholdsReached: [], exceeded: false }],
    ['a zero value: any usage exceeds it', tokens({ value: '0' }), [counter('1')], { used: '1', remaining: '0', thresholdsReached: [], exceeded: true }],
    ['a limit the app counts itself (seats): no usage', { value: '10', window: 'none', enforcement: 'hard', alertThresholdsPercent: ALERTS }, [counter('50')], { meter: null, used: null, remaining: null, exceeded: false }],
    ['a meter over another window: not metered here', tokens({ window: 'day' }), [counter('5000')], { used: null, exceeded: false }],
  ])('%s', (_what, limit, counters, expected) => {
    expect(limitState(limit, counters)).toMatchObject(expected);
  });
});
