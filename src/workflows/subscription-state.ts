/**
 * The state a subscription workflow carries from one run to the next (continue-as-new each period).
 * Kept small: ids, the current period, what Stripe told us about its items, and the closes of earlier
 * periods still waiting for their Stripe invoice or payment.
 */
import { iso, ms, sameSecond, wholeSecond } from './clock.js';
import type { StripeEventSummary, StripeSubscriptionSummary } from './stripe-event.js';
import type {
  CancelRequest,
  ChangeAddOnsRequest,
  ChangePlanRequest,
  ChangeSeatsRequest,
  CheckoutResult,
  PeriodOutcome,
  ProrationResult,
  StartSubscriptionRequest,
  StartSubscriptionResult,
  SubscriptionTiming,
  SubscriptionView,
} from './subscription-messages.js';

export type InboxMessage =
  | { kind: 'stripe'; event: StripeEventSummary }
  | { kind: 'seats'; request: ChangeSeatsRequest }
  | { kind: 'addOns'; request: ChangeAddOnsRequest }
  | { kind: 'cancel'; request: CancelRequest }
  | { kind: 'outcome'; outcome: PeriodOutcome };

/** A period close (child workflow) the subscription still routes Stripe invoice events to. */
export interface OpenClose {
  workflowId: string;
  periodStart: string;
  periodEnd: string;
  stripeInvoiceId: string | null;
}

/** What the state query shows (status, plan, seats, add-ons, period, cancellation, Stripe's id), and what the workflow needs beside it. */
type ViewedState = Pick<SubscriptionView, 'status' | 'planVersionId' | 'seats' | 'addOns' | 'periodStart' | 'periodEnd' | 'cancelAtPeriodEnd' | 'stripeSubscriptionId'>;

export interface SubscriptionState extends ViewedState {
  currency: string;
  checkoutCompleted: boolean;
  checkout: CheckoutResult | null;
  stripeSubscription: StripeSubscriptionSummary | null;
  /** Message ids already handled (Stripe event ids, request ids), bounded. */
  seen: string[];
  /** Messages received but not handled yet when the run continued as new. */
  inbox: InboxMessage[];
  closes: OpenClose[];
  /** Invoice events that arrived before the close of their period started. */
  pendingInvoiceEvents: StripeEventSummary[];
  /** Results of recent plan changes, so a retried update returns the first answer. */
  planChanges: ProrationResult[];
  /** An operator's start without Checkout (absent in runs from before it existed). */
  start?: StartSettings | null;
}

/** The start an operator asked for: at `startsAt` (whole second), created at Stripe once. */
export interface StartSettings extends StartSubscriptionRequest {
  startsAt: string;
}

// ---------------------------------------------------------------------------------------------------
// State transitions: pure functions of the state and a message (no activities, no clock reads), so
// each is tested by a table (test/workflows/subscription-state.test.ts). The workflow applies the
// patch a transition returns after the activities it decided on have succeeded.
// ---------------------------------------------------------------------------------------------------

export type StatePatch = Partial<SubscriptionState>;

/** Statuses in which the subscription has a Stripe subscription and a current period. */
export function isLive(s: Pick<SubscriptionState, 'status'>): boolean {
  return s.status === 'active' || s.status === 'past_due' || s.status === 'restricted';
}

/** The ids and period a live subscription always has; null when it is not live (nothing to change). */
export interface LiveFacts {
  stripeSubscriptionId: string;
  periodStart: string;
  periodEnd: string;
}

export function liveFacts(s: SubscriptionState): LiveFacts | null {
  if (!isLive(s) || !s.stripeSubscriptionId || !s.periodStart || !s.periodEnd) return null;
  return { stripeSubscriptionId: s.stripeSubscriptionId, periodStart: s.periodStart, periodEnd: s.periodEnd };
}

/** Whether the current period has ended and must be closed now. */
export function periodDue(s: SubscriptionState, nowMs: number): boolean {
  return isLive(s) && s.periodEnd !== null && nowMs >= ms(s.periodEnd);
}

export function subscriptionView(subscriptionId: string, teamId: string, s: SubscriptionState): SubscriptionView {
  return {
    subscriptionId,
    teamId,
    status: s.status,
    planVersionId: s.planVersionId,
    seats: s.seats,
    addOns: s.addOns,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    stripeSubscriptionId: s.stripeSubscriptionId,
    openPeriodCloses: s.closes.map((c) => c.workflowId),
  };
}

/** Add-ons as the subscription keeps them: each once, sorted. */
export function normalizeAddOns(addOns: readonly string[]): string[] {
  return [...new Set(addOns)].sort();
}

/** A change of the subscription's Stripe items: seats, add-ons or plan, all applied by one path. */
export type ItemChangeRequest =
  | { kind: 'seats'; request: ChangeSeatsRequest }
  | { kind: 'addOns'; request: ChangeAddOnsRequest }
  | { kind: 'plan'; request: ChangePlanRequest };

export interface ItemChange {
  kind: 'seats' | 'add_ons' | 'plan';
  requestId: string;
  /** Stripe's idempotency key of the item update. */
  idempotencyKey: string;
  /** Whole second: Stripe prorates at whole seconds. */
  effectiveAt: string;
  /** The items after the change. */
  planVersionId: string;
  seats: number;
  addOns: string[];
  /** A new plan or new add-ons may need Stripe prices first; a seat change reuses the items' prices. */
  needsPrices: boolean;
  detail: Record<string, unknown>;
  /** The one field that changes: recorded with the change, then patched into the state. */
  patch: Pick<StatePatch, 'seats' | 'addOns' | 'planVersionId'>;
  /** Plan changes only: the exact instant the usage price assignment takes (two within a second still order). */
  assignFrom?: string;
}

/**
 * What a seat, add-on or plan request changes, or null when it changes nothing (not live, or the
 * items already are so). Plan requests are checked for status by the update's validator.
 */
export function planItemChange(s: SubscriptionState, subscriptionId: string, change: ItemChangeRequest, nowMs: number): ItemChange | null {
  const effectiveAt = iso(wholeSecond(nowMs));
  const base = { requestId: change.request.requestId, effectiveAt, planVersionId: s.planVersionId, seats: s.seats, addOns: s.addOns };
  switch (change.kind) {
    case 'seats': {
      const { seats } = change.request;
      if (!isLive(s) || seats === s.seats) return null;
      const key = `seats:${subscriptionId}:${base.requestId}`;
      return { ...base, kind: 'seats', idempotencyKey: key, seats, needsPrices: false, detail: { from: s.seats, to: seats }, patch: { seats } };
    }
    case 'addOns': {
      const addOns = normalizeAddOns(change.request.addOns);
      if (!isLive(s) || addOns.join() === s.addOns.join()) return null;
      const key = `addons:${subscriptionId}:${base.requestId}`;
      return { ...base, kind: 'add_ons', idempotencyKey: key, addOns, needsPrices: true, detail: { from: s.addOns, to: addOns }, patch: { addOns } };
    }
    case 'plan': {
      const { planVersionId } = change.request;
      return {
        ...base,
        kind: 'plan',
        idempotencyKey: `plan:${subscriptionId}:${base.requestId}`,
        planVersionId,
        needsPrices: true,
        detail: { from: s.planVersionId, to: planVersionId, seats: s.seats, addOns: s.addOns },
        patch: { planVersionId },
        assignFrom: iso(nowMs),
      };
    }
  }
}

/** The answer an earlier plan change with this request id gave, so a retried update returns it again. */
export function earlierPlanChange(s: SubscriptionState, requestId: string): ProrationResult | undefined {
  return s.planChanges.find((r) => r.requestId === requestId);
}

/** Whether a plan change may run: the subscription is active, or the request already ran. */
export function planChangeAllowed(s: SubscriptionState, requestId: string, activating = false): boolean {
  return s.status === 'active' || activating || earlierPlanChange(s, requestId) !== undefined;
}

export function rememberPlanChange(s: SubscriptionState, result: ProrationResult, kept: number): StatePatch {
  return { planChanges: [...s.planChanges, result].slice(-kept) };
}

/** Whether a cancel request changes anything: live, and not a second cancel at period end. */
export function cancelApplies(s: SubscriptionState, request: CancelRequest): boolean {
  return isLive(s) && !(request.atPeriodEnd && s.cancelAtPeriodEnd);
}

/** After Stripe cancelled: cancelling now ends the period now, so its usage is invoiced at once on a final invoice. */
export function canceled(request: CancelRequest, effectiveAt: string): StatePatch {
  return request.atPeriodEnd ? { cancelAtPeriodEnd: true } : { cancelAtPeriodEnd: true, periodEnd: effectiveAt };
}

/** How a period close ended, seen from the subscription: its status and the closes still open. */
export function applyOutcome(s: SubscriptionState, outcome: PeriodOutcome): Pick<SubscriptionState, 'status' | 'closes'> {
  let { status, closes } = s;
  const done = () => closes.filter((c) => c.workflowId !== outcome.workflowId);
  switch (outcome.outcome) {
    case 'payment_failed':
      if (status !== 'canceled') status = 'past_due';
      break;
    case 'restricted':
      if (status !== 'canceled') status = 'restricted';
      break;
    case 'recovered':
    case 'paid':
      if (status === 'past_due' || status === 'restricted') status = 'active';
      closes = done();
      break;
    case 'closed_without_charge':
      closes = done();
      break;
  }
  return { status, closes };
}

/** The facts a (non-invoice) Stripe event carries: checkout completed, the Stripe subscription. */
export function observeStripeEvent(s: SubscriptionState, event: StripeEventSummary): StatePatch {
  const patch: StatePatch = {};
  let stripeSubscriptionId = s.stripeSubscriptionId;
  if (event.type === 'checkout.session.completed' && event.checkoutSession) {
    patch.checkoutCompleted = true;
    stripeSubscriptionId = event.checkoutSession.stripeSubscriptionId ?? stripeSubscriptionId;
    patch.stripeSubscriptionId = stripeSubscriptionId;
  }
  if (event.subscription) {
    patch.stripeSubscriptionId = stripeSubscriptionId ?? event.subscription.id;
    patch.stripeSubscription = event.subscription;
  }
  return patch;
}

/**
 * Stripe moved the end of the current period (e.g. a new billing anchor): the new end to follow, or
 * null. Not when periods have a fixed length; a later period (a renewal) is ours to roll.
 */
export function movedPeriodEnd(s: SubscriptionState, timing: SubscriptionTiming, subscription: StripeSubscriptionSummary): string | null {
  const { currentPeriodStart: stripeStart, currentPeriodEnd: stripeEnd } = subscription;
  if (timing.periodMs !== null || !isLive(s) || !stripeStart || !stripeEnd || !s.periodStart || !s.periodEnd) return null;
  return sameSecond(stripeStart, s.periodStart) && !sameSecond(stripeEnd, s.periodEnd) ? stripeEnd : null;
}

/** Stripe deleted the subscription: the current period ends now (or at its end, if that came first). */
export function stripeDeleted(s: SubscriptionState, nowMs: number): StatePatch {
  return { cancelAtPeriodEnd: true, periodEnd: iso(s.periodEnd ? Math.min(nowMs, ms(s.periodEnd)) : nowMs) };
}

/**
 * What an operator's start request does: start now, wait for its `startsAt`, answer as the first
 * time (a retried request), or refuse (a subscription already started another way).
 */
export type StartDecision =
  | { kind: 'start'; start: StartSettings }
  | { kind: 'schedule'; start: StartSettings }
  | { kind: 'replay' }
  | { kind: 'refuse'; reason: string };

export function decideStart(s: SubscriptionState, request: StartSubscriptionRequest, nowMs: number): StartDecision {
  if (s.start) {
    return s.start.requestId === request.requestId ? { kind: 'replay' } : { kind: 'refuse', reason: `The subscription was started by request ${s.start.requestId}` };
  }
  if (s.status !== 'incomplete' || s.checkout || s.checkoutCompleted) return { kind: 'refuse', reason: `A ${s.status} subscription started through Checkout cannot be started again` };
  const at = request.startsAt === null ? wholeSecond(nowMs) : Math.max(wholeSecond(ms(request.startsAt)), wholeSecond(nowMs));
  const start: StartSettings = { ...request, startsAt: iso(at) };
  return at > nowMs ? { kind: 'schedule', start } : { kind: 'start', start };
}

/** Whether an operator's start waits to happen: requested, and nothing started the subscription yet. */
export function startPending(s: SubscriptionState): boolean {
  return s.status === 'incomplete' && !!s.start;
}

/** Whether a pending start is due: its instant has come. */
export function startDue(s: SubscriptionState, nowMs: number): boolean {
  return startPending(s) && !!s.start && nowMs >= ms(s.start.startsAt);
}

/** Stripe created the subscription the operator asked for: it waits to be activated, as after Checkout. */
export function startedWithoutCheckout(subscription: StripeSubscriptionSummary): StatePatch {
  return { checkoutCompleted: true, stripeSubscriptionId: subscription.id, stripeSubscription: subscription };
}

export function startResult(s: SubscriptionState): StartSubscriptionResult {
  return {
    status: isLive(s) || s.status === 'canceled' ? 'active' : 'scheduled',
    startsAt: s.start?.startsAt ?? s.periodStart ?? '',
    stripeSubscriptionId: s.stripeSubscriptionId,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
  };
}

/** Whether checkout completed and the subscription waits to be activated. */
export function awaitsActivation(s: SubscriptionState): boolean {
  return s.status === 'incomplete' && s.checkoutCompleted;
}

/**
 * The first period of a newly active subscription: Stripe's current period, or now plus the fixed
 * length. A null end means: the plan's interval from the start (an activity reads it).
 */
export function firstPeriod(timing: SubscriptionTiming, details: StripeSubscriptionSummary, nowMs: number): { periodStart: string; periodEnd: string | null } {
  const now = wholeSecond(nowMs);
  if (timing.periodMs !== null) return { periodStart: iso(now), periodEnd: iso(now + timing.periodMs) };
  return { periodStart: details.currentPeriodStart ?? iso(now), periodEnd: details.currentPeriodEnd };
}

export function activated(periodStart: string, periodEnd: string): StatePatch {
  return { status: 'active', periodStart, periodEnd };
}

/** Where a Stripe invoice event goes: to the open close of its period, held for a close about to start, or nowhere. */
export type InvoiceRoute =
  | { kind: 'forward'; workflowId: string; patch: StatePatch }
  | { kind: 'hold'; patch: StatePatch }
  | { kind: 'unrouted' };

export function routeInvoiceEvent(s: SubscriptionState, event: StripeEventSummary): InvoiceRoute {
  const invoice = event.invoice;
  if (!invoice) return { kind: 'unrouted' };
  const byInvoice = s.closes.find((c) => c.stripeInvoiceId === invoice.id);
  if (byInvoice) return { kind: 'forward', workflowId: byInvoice.workflowId, patch: {} };
  const invoicePeriodStart = invoice.periodStart;
  if (event.type !== 'invoice.created' || !invoicePeriodStart) return { kind: 'unrouted' };
  // Stripe's renewal invoice covers (period_start, period_end) of the period that just ended.
  const byPeriod = s.closes.find((c) => c.stripeInvoiceId === null && sameSecond(c.periodStart, invoicePeriodStart));
  if (byPeriod) {
    const closes = s.closes.map((c) => (c === byPeriod ? { ...c, stripeInvoiceId: invoice.id } : c));
    return { kind: 'forward', workflowId: byPeriod.workflowId, patch: { closes } };
  }
  // Stripe was quicker than our period timer: hold it for the close about to start.
  if (s.periodStart && sameSecond(invoicePeriodStart, s.periodStart)) return { kind: 'hold', patch: { pendingInvoiceEvents: [...s.pendingInvoiceEvents, event] } };
  return { kind: 'unrouted' };
}

/** The period to close now: the current one; final when the subscription cancels at its end. */
export function periodToClose(s: SubscriptionState): { periodStart: string; periodEnd: string; final: boolean } | null {
  if (!s.periodStart || !s.periodEnd) return null;
  return { periodStart: s.periodStart, periodEnd: s.periodEnd, final: s.cancelAtPeriodEnd };
}

/**
 * The close of `close.periodStart` has started: it joins the open closes and claims the invoice
 * events held for its period (the first one names its Stripe invoice); `early` are to be forwarded.
 */
export function closeStarted(s: SubscriptionState, close: OpenClose): { patch: StatePatch; early: StripeEventSummary[] } {
  const early = s.pendingInvoiceEvents.filter((e) => e.invoice?.periodStart && sameSecond(e.invoice.periodStart, close.periodStart));
  const stripeInvoiceId = close.stripeInvoiceId ?? early[0]?.invoice?.id ?? null;
  const patch: StatePatch = {
    closes: [...s.closes, { ...close, stripeInvoiceId }],
    pendingInvoiceEvents: s.pendingInvoiceEvents.filter((e) => !early.includes(e)),
  };
  return { patch, early };
}

/** After a close: the next period (from the closed one's end), or, with no next period, the end. */
export function nextPeriod(closedPeriodEnd: string, next: string | null): StatePatch {
  return next === null ? { status: 'canceled', periodStart: null, periodEnd: null } : { periodStart: closedPeriodEnd, periodEnd: next };
}
