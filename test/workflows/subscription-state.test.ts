/**
 * The subscription's state transitions, pure: each table row is a state and a message, and what the
 * subscription becomes. The workflow applies these after the activities they decided on succeeded.
 */
import { describe, expect, it } from 'vitest';
import {
  applyOutcome,
  awaitsActivation,
  canceled,
  cancelApplies,
  decideStart,
  startDue,
  startedWithoutCheckout,
  closeStarted,
  firstPeriod,
  isLive,
  liveFacts,
  movedPeriodEnd,
  nextPeriod,
  observeStripeEvent,
  periodDue,
  planChangeAllowed,
  planItemChange,
  rememberPlanChange,
  routeInvoiceEvent,
  stripeDeleted,
  type OpenClose,
  type SubscriptionState,
} from '../../src/workflows/subscription-state.js';
import type { StripeEventSummary, StripeSubscriptionSummary } from '../../src/workflows/stripe-event.js';
import type { PeriodOutcome, ProrationResult, SubscriptionStatus, SubscriptionTiming } from '../../src/workflows/subscription-messages.js';

const START = '2026-01-01T00:00:00.000Z';
const END = '2026-02-01T00:00:00.000Z';
const NOW = Date.parse('2026-01-15T12:00:00.250Z');

function state(over: Partial<SubscriptionState> = {}): SubscriptionState {
  return {
    status: 'active',
    currency: 'usd',
    planVersionId: 'pv_1',
    seats: 3,
    addOns: ['sso'],
    periodStart: START,
    periodEnd: END,
    cancelAtPeriodEnd: false,
    checkoutCompleted: true,
    checkout: null,
    stripeSubscriptionId: 'sub_1',
    stripeSubscription: null,
    seen: [],
    inbox: [],
    closes: [],
    pendingInvoiceEvents: [],
    planChanges: [],
    ...over,
  };
}

const timing = (periodMs: number | null): SubscriptionTiming => ({ periodMs, dunningRetryDelaysMs: [], dunningGraceMs: 0, stripeInvoiceWaitWarnMs: 0 });
const stripeSub = (over: Partial<StripeSubscriptionSummary> = {}): StripeSubscriptionSummary => ({
  id: 'sub_1',
  status: 'active',
  cancelAtPeriodEnd: false,
  currentPeriodStart: START,
  currentPeriodEnd: END,
  items: [],
  ...over,
});
const close = (periodStart: string, stripeInvoiceId: string | null = null): OpenClose => ({ workflowId: `period:${periodStart}`, periodStart, periodEnd: END, stripeInvoiceId });
const invoiceEvent = (type: string, id: string, periodStart: string | null): StripeEventSummary => ({
  id: `evt_${id}_${type}`,
  type,
  createdAt: START,
  invoice: { id, status: 'draft', billingReason: null, currency: 'usd', totalCents: '0', amountDueCents: '0', amountPaidCents: '0', attemptCount: 0, periodStart, periodEnd: null },
});

describe('liveness', () => {
  it.each<[SubscriptionStatus, boolean]>([
    ['incomplete', false],
    ['active', true],
    ['past_due', true],
    ['restricted', true],
    ['canceled', false],
  ])('a %s subscription is live: %s', (status, live) => {
    expect(isLive({ status })).toBe(live);
    expect(liveFacts(state({ status })) !== null).toBe(live);
  });

  it('a live subscription without its Stripe subscription id has no live facts', () => {
    expect(liveFacts(state({ stripeSubscriptionId: null }))).toBeNull();
  });

  it.each([
    ['before the period end', state(), Date.parse(END) - 1, false],
    ['at the period end', state(), Date.parse(END), true],
    ['after the period end', state(), Date.parse(END) + 1, true],
    ['without a period', state({ periodEnd: null }), Date.parse(END) + 1, false],
    ['when not live', state({ status: 'incomplete' }), Date.parse(END) + 1, false],
  ])('the period is due %s: %s', (_what, s, now, due) => {
    expect(periodDue(s, now)).toBe(due);
  });
});

describe('item changes: seats, add-ons and plan share one path', () => {
  it.each([
    { what: 'more seats', s: state(), request: { kind: 'seats' as const, request: { requestId: 'r1', seats: 5 } }, kind: 'seats', key: 'seats:s1:r1', patch: { seats: 5 }, needsPrices: false, detail: { from: 3, to: 5 } },
    {
      what: 'other add-ons, deduped and sorted',
      s: state(),
      request: { kind: 'addOns' as const, request: { requestId: 'r2', addOns: ['audit', 'sso', 'audit'] } },
      kind: 'add_ons',
      key: 'addons:s1:r2',
      patch: { addOns: ['audit', 'sso'] },
      needsPrices: true,
      detail: { from: ['sso'], to: ['audit', 'sso'] },
    },
    {
      what: 'another plan',
      s: state(),
      request: { kind: 'plan' as const, request: { requestId: 'r3', planVersionId: 'pv_2' } },
      kind: 'plan',
      key: 'plan:s1:r3',
      patch: { planVersionId: 'pv_2' },
      needsPrices: true,
      detail: { from: 'pv_1', to: 'pv_2', seats: 3, addOns: ['sso'] },
    },
  ])('$what: one change with its idempotency key, proration second and patch', ({ s, request, kind, key, patch, needsPrices, detail }) => {
    const change = planItemChange(s, 's1', request, NOW);
    expect(change).toMatchObject({ kind, idempotencyKey: key, patch, needsPrices, detail, effectiveAt: '2026-01-15T12:00:00.000Z' });
    expect({ seats: change?.seats, addOns: change?.addOns, planVersionId: change?.planVersionId }).toEqual({ seats: s.seats, addOns: s.addOns, planVersionId: s.planVersionId, ...patch });
  });

  it('a plan change carries the exact instant for the usage price assignment', () => {
    expect(planItemChange(state(), 's1', { kind: 'plan', request: { requestId: 'r', planVersionId: 'pv_2' } }, NOW)?.assignFrom).toBe('2026-01-15T12:00:00.250Z');
  });

  it.each([
    ['the same seats', state(), { kind: 'seats' as const, request: { requestId: 'r', seats: 3 } }],
    ['the same add-ons in another order', state({ addOns: ['audit', 'sso'] }), { kind: 'addOns' as const, request: { requestId: 'r', addOns: ['sso', 'audit'] } }],
    ['seats of an incomplete subscription', state({ status: 'incomplete' }), { kind: 'seats' as const, request: { requestId: 'r', seats: 9 } }],
    ['add-ons of a canceled subscription', state({ status: 'canceled' }), { kind: 'addOns' as const, request: { requestId: 'r', addOns: [] } }],
  ])('%s change nothing', (_what, s, request) => {
    expect(planItemChange(s, 's1', request, NOW)).toBeNull();
  });

  const earlier: ProrationResult = { requestId: 'r1', fromPlanVersionId: 'pv_1', toPlanVersionId: 'pv_2', effectiveAt: START, creditAmount: '1', chargeAmount: '2', netAmount: '1' };
  it.each<[string, SubscriptionState, boolean, boolean]>([
    ['active', state(), false, true],
    ['past due', state({ status: 'past_due' }), false, false],
    ['incomplete and activating', state({ status: 'incomplete' }), true, true],
    ['canceled, but the request already ran', state({ status: 'canceled', planChanges: [earlier] }), false, true],
  ])('a plan change of a %s subscription is allowed: %s', (_what, s, activating, allowed) => {
    expect(planChangeAllowed(s, 'r1', activating)).toBe(allowed);
  });

  it('remembers only the most recent plan changes', () => {
    const results = Array.from({ length: 5 }, (_, i) => ({ ...earlier, requestId: `r${i}` }));
    expect(rememberPlanChange(state({ planChanges: results }), { ...earlier, requestId: 'r5' }, 3).planChanges?.map((r) => r.requestId)).toEqual(['r3', 'r4', 'r5']);
  });
});

describe('cancel', () => {
  it.each([
    ['at period end of a live subscription', state(), true, true],
    ['now of a live subscription', state(), false, true],
    ['at period end a second time', state({ cancelAtPeriodEnd: true }), true, false],
    ['now after a cancel at period end', state({ cancelAtPeriodEnd: true }), false, true],
    ['of an incomplete subscription', state({ status: 'incomplete' }), false, false],
  ])('a cancel %s applies: %s', (_what, s, atPeriodEnd, applies) => {
    expect(cancelApplies(s, { requestId: 'r', atPeriodEnd })).toBe(applies);
  });

  it.each([
    [true, { cancelAtPeriodEnd: true }],
    [false, { cancelAtPeriodEnd: true, periodEnd: '2026-01-15T12:00:00.000Z' }],
  ])('cancelling at period end %s ends the period now only when not at period end', (atPeriodEnd, patch) => {
    expect(canceled({ requestId: 'r', atPeriodEnd }, '2026-01-15T12:00:00.000Z')).toEqual(patch);
  });
});

describe('period outcomes', () => {
  const open = [close(START), close(END)];
  it.each<[SubscriptionStatus, PeriodOutcome['outcome'], SubscriptionStatus, number]>([
    ['active', 'payment_failed', 'past_due', 2],
    ['canceled', 'payment_failed', 'canceled', 2],
    ['past_due', 'restricted', 'restricted', 2],
    ['canceled', 'restricted', 'canceled', 2],
    ['past_due', 'recovered', 'active', 1],
    ['restricted', 'paid', 'active', 1],
    ['active', 'paid', 'active', 1],
    ['canceled', 'paid', 'canceled', 1],
    ['active', 'closed_without_charge', 'active', 1],
  ])('%s + %s -> %s with %i closes open', (status, outcome, after, openAfter) => {
    const result = applyOutcome(state({ status, closes: open }), { workflowId: `period:${START}`, periodStart: START, outcome });
    expect(result.status).toBe(after);
    expect(result.closes).toHaveLength(openAfter);
  });
});

describe('Stripe events', () => {
  it.each([
    ['checkout completed with a subscription', state({ checkoutCompleted: false, stripeSubscriptionId: null }), { id: 'e', type: 'checkout.session.completed', createdAt: START, checkoutSession: { id: 'cs', stripeSubscriptionId: 'sub_9', stripeCustomerId: null } }, { checkoutCompleted: true, stripeSubscriptionId: 'sub_9' }],
    ['checkout completed without one keeps the known id', state({ checkoutCompleted: false }), { id: 'e', type: 'checkout.session.completed', createdAt: START, checkoutSession: { id: 'cs', stripeSubscriptionId: null, stripeCustomerId: null } }, { checkoutCompleted: true, stripeSubscriptionId: 'sub_1' }],
    ['a subscription event names the subscription once', state({ stripeSubscriptionId: null }), { id: 'e', type: 'customer.subscription.created', createdAt: START, subscription: stripeSub({ id: 'sub_7' }) }, { stripeSubscriptionId: 'sub_7', stripeSubscription: stripeSub({ id: 'sub_7' }) }],
    ['a subscription event never renames it', state(), { id: 'e', type: 'customer.subscription.updated', createdAt: START, subscription: stripeSub({ id: 'sub_7' }) }, { stripeSubscriptionId: 'sub_1', stripeSubscription: stripeSub({ id: 'sub_7' }) }],
    ['another event tells nothing', state(), { id: 'e', type: 'invoice.paid', createdAt: START }, {}],
  ])('%s', (_what, s, event, patch) => {
    expect(observeStripeEvent(s, event as StripeEventSummary)).toEqual(patch);
  });

  const LATER = '2026-02-10T00:00:00.000Z';
  it.each([
    ['Stripe moved the end of the current period', state(), timing(null), stripeSub({ currentPeriodEnd: LATER }), LATER],
    ['the end is the same second', state(), timing(null), stripeSub({ currentPeriodEnd: '2026-02-01T00:00:00.900Z' }), null],
    ['periods have a fixed length', state(), timing(10_000), stripeSub({ currentPeriodEnd: LATER }), null],
    ['it is a later period (ours to roll)', state(), timing(null), stripeSub({ currentPeriodStart: END, currentPeriodEnd: LATER }), null],
    ['the subscription is not live', state({ status: 'incomplete' }), timing(null), stripeSub({ currentPeriodEnd: LATER }), null],
  ])('the period end follows Stripe when %s', (_what, s, t, sub, moved) => {
    expect(movedPeriodEnd(s, t, sub)).toBe(moved);
  });

  it.each([
    ['before the period end: now', NOW, '2026-01-15T12:00:00.250Z'],
    ['after the period end: the period end', Date.parse(END) + 5_000, END],
  ])('Stripe deleting the subscription ends the period %s', (_what, now, end) => {
    expect(stripeDeleted(state(), now)).toEqual({ cancelAtPeriodEnd: true, periodEnd: end });
  });

  it.each<[SubscriptionStatus, boolean, boolean]>([
    ['incomplete', true, true],
    ['incomplete', false, false],
    ['active', true, false],
  ])('a %s subscription with checkout completed %s awaits activation: %s', (status, checkoutCompleted, awaits) => {
    expect(awaitsActivation(state({ status, checkoutCompleted }))).toBe(awaits);
  });

  it.each([
    ['a fixed length starts now, on a whole second', timing(10_000), stripeSub(), { periodStart: '2026-01-15T12:00:00.000Z', periodEnd: '2026-01-15T12:00:10.000Z' }],
    ["Stripe's periods follow Stripe", timing(null), stripeSub(), { periodStart: START, periodEnd: END }],
    ['without a Stripe period the plan interval decides the end', timing(null), stripeSub({ currentPeriodStart: null, currentPeriodEnd: null }), { periodStart: '2026-01-15T12:00:00.000Z', periodEnd: null }],
  ])('the first period: %s', (_what, t, sub, period) => {
    expect(firstPeriod(t, sub, NOW)).toEqual(period);
  });
});

describe('invoice events are routed to the close of their period', () => {
  const FEB = END;
  it.each([
    ['an invoice a close already claimed goes to it', state({ closes: [close(START, 'in_1')] }), invoiceEvent('invoice.paid', 'in_1', START), { kind: 'forward', workflowId: `period:${START}` }],
    ['a created renewal invoice is claimed by the close of its period', state({ closes: [close(START)] }), invoiceEvent('invoice.created', 'in_2', START), { kind: 'forward', workflowId: `period:${START}`, patch: { closes: [close(START, 'in_2')] } }],
    ['a created invoice of the current period is held for its close', state({ periodStart: FEB }), invoiceEvent('invoice.created', 'in_3', FEB), { kind: 'hold' }],
    ['a paid invoice of no open close is recorded only', state(), invoiceEvent('invoice.paid', 'in_4', START), { kind: 'unrouted' }],
    ['a created invoice of another period is recorded only', state({ closes: [close(START)] }), invoiceEvent('invoice.created', 'in_5', '2025-06-01T00:00:00.000Z'), { kind: 'unrouted' }],
  ])('%s', (_what, s, event, route) => {
    expect(routeInvoiceEvent(s, event)).toMatchObject(route);
  });

  it('a close that starts claims the invoice events held for its period, and the first names its invoice', () => {
    const held = [invoiceEvent('invoice.created', 'in_9', START), invoiceEvent('invoice.finalized', 'in_9', START), invoiceEvent('invoice.created', 'in_x', END)];
    const { patch, early } = closeStarted(state({ pendingInvoiceEvents: held }), close(START));
    expect(early.map((e) => e.id)).toEqual([held[0]?.id, held[1]?.id]);
    expect(patch.closes).toEqual([close(START, 'in_9')]);
    expect(patch.pendingInvoiceEvents).toEqual([held[2]]);
  });

  it.each([
    ['a renewal moves on to the next period', '2026-03-01T00:00:00.000Z', { periodStart: END, periodEnd: '2026-03-01T00:00:00.000Z' }],
    ['a final close ends the subscription', null, { status: 'canceled', periodStart: null, periodEnd: null }],
  ])('%s', (_what, next, patch) => {
    expect(nextPeriod(END, next)).toEqual(patch);
  });
});

describe("an operator's start without Checkout", () => {
  const request = { requestId: 'start:sub_1', collection: 'send_invoice' as const, daysUntilDue: 30, startsAt: null };
  const incomplete = state({ status: 'incomplete', checkoutCompleted: false, stripeSubscriptionId: null, periodStart: null, periodEnd: null });
  const later = '2026-01-20T00:00:00.000Z';
  it.each([
    ['starts now when no instant is given, on the whole second', incomplete, request, { kind: 'start', start: { ...request, startsAt: '2026-01-15T12:00:00.000Z' } }],
    ['starts now when the instant has just passed', incomplete, { ...request, startsAt: '2026-01-15T11:59:59.000Z' }, { kind: 'start', start: { startsAt: '2026-01-15T12:00:00.000Z' } }],
    ['waits for a later instant', incomplete, { ...request, startsAt: later }, { kind: 'schedule', start: { startsAt: later } }],
    ['answers a retried request as the first time', state({ ...incomplete, start: { ...request, startsAt: later } }), request, { kind: 'replay' }],
    ['refuses another start request', state({ ...incomplete, start: { ...request, requestId: 'start:other', startsAt: later } }), request, { kind: 'refuse' }],
    ['refuses a subscription whose Checkout completed', state(), request, { kind: 'refuse' }],
    ['refuses a subscription with a Checkout session', state({ ...incomplete, checkout: { checkoutSessionId: 'cs_1', checkoutUrl: 'https://x' } }), request, { kind: 'refuse' }],
  ])('%s', (_what, s, r, decision) => {
    expect(decideStart(s, r, NOW)).toMatchObject(decision);
  });

  it('is due at its instant, and no longer once the subscription is active', () => {
    const scheduled = state({ ...incomplete, start: { ...request, startsAt: later } });
    expect(startDue(scheduled, Date.parse(later) - 1)).toBe(false);
    expect(startDue(scheduled, Date.parse(later))).toBe(true);
    expect(startDue({ ...scheduled, status: 'active' }, Date.parse(later))).toBe(false);
  });

  it('once Stripe created the subscription, it waits to be activated as after a Checkout', () => {
    const patch = startedWithoutCheckout(stripeSub({ id: 'sub_9' }));
    const s = state({ ...incomplete, ...patch });
    expect(awaitsActivation(s)).toBe(true);
    expect(s.stripeSubscriptionId).toBe('sub_9');
  });
});
